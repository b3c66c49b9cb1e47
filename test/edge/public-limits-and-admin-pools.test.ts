import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, createKey, fetchWithVars as fetchWith, installPeer, multipartJob, POOL, runDispatch, tinyJob } from "./helpers.js";

const freshOwner = () => `o${crypto.randomUUID().slice(0, 8)}`;

describe("routes without a key", () => {
  it("are rate limited per client address, with RateLimit headers and Retry-After", async () => {
    const client = { "cf-connecting-ip": `203.0.113.${Math.floor(Math.random() * 200) + 1}` };
    const small = { RATE_LIMIT_PUBLIC_REQUESTS_PER_MINUTE: "3", CLIENT_ADDRESS_HEADER: "cf-connecting-ip" };
    for (let i = 0; i < 3; i++) {
      const ok = await fetchWith("/health", small, client);
      expect(ok.status).toBe(200);
      expect(ok.headers.get("ratelimit-policy")).toBe('"public";q=3;w=60');
      expect(ok.headers.get("ratelimit")).toMatch(new RegExp(`^"public";r=${2 - i};t=\\d+$`));
    }
    const refused = await fetchWith("/v1/models", small, client);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as { code: string }).code).toBe("rate_limited");
    // Another address has its own bucket.
    expect((await fetchWith("/health", small, { "cf-connecting-ip": `198.51.100.${Math.floor(Math.random() * 200) + 1}` })).status).toBe(
      200,
    );
  });

  it("leave the bench baseline /hello bare", async () => {
    const hello = await fetchWith("/hello", {});
    expect(hello.status).toBe(200);
    expect(hello.headers.get("ratelimit")).toBeNull();
  });
});

describe("GET /v1/admin/pools", () => {
  let peer: ReturnType<typeof installPeer>;
  beforeEach(() => {
    peer = installPeer();
  });
  afterEach(() => peer.restore());

  it("shows each configured pool as dispatch sees it, to admin keys only", async () => {
    const { key: admin } = await createKey(freshOwner(), ["admin"]);
    const { key: user } = await createKey(freshOwner());
    expect((await api("/v1/admin/pools", user)).status).toBe(403);

    const job = (await (await multipartJob(user, tinyJob())).json()) as { id: string };
    await runDispatch(job.id);
    expect(peer.dispatched.map((d) => d.job_id)).toContain(job.id);
    const pools = (await (await api("/v1/admin/pools", admin)).json()) as { data: Array<Record<string, unknown>> };
    expect(pools.data).toEqual([
      expect.objectContaining({
        object: "gpu_pool",
        model: "ecomid-tiny",
        url: POOL,
        state: "healthy",
        consecutive_failures: 0,
        capacity: 1,
        last_error: null,
      }),
    ]);
  });
});
