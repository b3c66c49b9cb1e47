import { afterEach, describe, expect, it } from "vitest";
import { testEnv, api, createKey, installPeer, multipartJob, pngOf, tinyJob } from "./helpers.js";

let peer: ReturnType<typeof installPeer> | undefined;
afterEach(() => peer?.restore());

describe("Idempotency-Key on job creation", () => {
  it("replays the stored response for the same key and body", async () => {
    peer = installPeer();
    const { key } = await createKey("acme");
    const first = await multipartJob(key, tinyJob(), undefined, { "idempotency-key": "order-1" });
    expect(first.status).toBe(201);
    const job = (await first.json()) as { id: string };
    const again = await multipartJob(key, tinyJob(), undefined, { "idempotency-key": "order-1" });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(((await again.json()) as { id: string }).id).toBe(job.id);
    const list = (await (await api("/v1/jobs", key)).json()) as { data: unknown[] };
    expect(list.data).toHaveLength(1);
  });

  it("answers 422 when the key is reused with a different body", async () => {
    peer = installPeer();
    const { key } = await createKey("acme");
    await multipartJob(key, tinyJob(), undefined, { "idempotency-key": "order-2" });
    const res = await multipartJob(key, tinyJob({}, { prompt: "something else" }), undefined, { "idempotency-key": "order-2" });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { code: string }).code).toBe("idempotency_key_reused");
  });

  it("answers 409 while the first request with the key is still running", async () => {
    const { key, id } = await createKey("acme");
    // Hold the key at the guard exactly as an unfinished first request with this body would.
    const { CreateJobRequest } = await import("@ecomid/shared/api");
    const { sha256Hex } = await import("@ecomid/shared/crypto");
    const { canonicalJson } = await import("../../edge/src/lib/canonical-json.js");
    const image = pngOf(512, 512);
    const { MODEL_CATALOG } = await import("../../edge/src/config/models.js");
    const body = tinyJob();
    const withDefaults = { ...body, input: { ...MODEL_CATALOG.find((m) => m.id === "ecomid-tiny")!.defaults, ...body.input } };
    const fingerprint = await sha256Hex(
      canonicalJson({ request: CreateJobRequest.parse(withDefaults), files: { face: await sha256Hex(image) } }),
    );
    const guard = testEnv.KEY_GUARDS.get(testEnv.KEY_GUARDS.idFromName(id));
    expect((await guard.beginIdempotent("order-3", fingerprint, 60_000)).state).toBe("new");
    const res = await multipartJob(key, tinyJob(), image, { "idempotency-key": "order-3" });
    expect(res.status).toBe(409);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(((await res.json()) as { code: string }).code).toBe("idempotency_in_progress");
  });

  it("frees the key when the first request failed, so a corrected retry runs", async () => {
    peer = installPeer();
    const { key } = await createKey("acme");
    const bad = await multipartJob(key, tinyJob({ model: "nope" }), undefined, { "idempotency-key": "order-4" });
    expect(bad.status).toBe(422);
    const good = await multipartJob(key, tinyJob({ model: "nope" }), undefined, { "idempotency-key": "order-4" });
    expect(good.headers.get("idempotent-replayed")).toBeNull();
  });
});

describe("rate limits", () => {
  it("sends RateLimit and RateLimit-Policy on every authenticated response", async () => {
    const { key } = await createKey("acme");
    const res = await api("/v1/jobs", key);
    expect(res.headers.get("ratelimit-policy")).toBe('"default";q=600;w=60');
    expect(res.headers.get("ratelimit")).toMatch(/^"default";r=599;t=\d+$/);
    const miss = await api("/v1/jobs/job_nope", key);
    expect(miss.status).toBe(404);
    // One more token spent; at 10 tokens a second a slow machine may have refilled it already.
    const remaining = Number(/"default";r=(\d+)/.exec(miss.headers.get("ratelimit") ?? "")?.[1]);
    expect(remaining).toBeGreaterThanOrEqual(598);
    expect(remaining).toBeLessThanOrEqual(599);
  });

  it("answers 429 with Retry-After once the create bucket is empty, at its size plus what refilled meanwhile", async () => {
    const { key } = await createKey("acme");
    const started = Date.now();
    let accepted = 0;
    let refused: Response | null = null;
    while (!refused && accepted < 200) {
      const res = await api("/v1/uploads", key, { method: "POST", json: { content_type: "image/png", bytes: 10 } });
      if (res.status === 201) accepted++;
      else refused = res;
    }
    const refilled = Math.ceil(((Date.now() - started) / 1000) * 2); // 120 per minute = 2 per second
    expect(accepted).toBeGreaterThanOrEqual(120);
    expect(accepted).toBeLessThanOrEqual(120 + refilled);
    expect(refused!.status).toBe(429);
    expect(Number(refused!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused!.headers.get("ratelimit")).toContain('"create";r=0');
    expect(((await refused!.json()) as { code: string }).code).toBe("rate_limited");
    // Reads spend only the default bucket and still work.
    expect((await api("/v1/jobs", key)).status).toBe(200);
  });

  it("caps jobs in flight per key", async () => {
    peer = installPeer();
    const { key } = await createKey("acme");
    for (let i = 0; i < 8; i++) expect((await multipartJob(key, tinyJob({}, { seed: i }))).status).toBe(201);
    const ninth = await multipartJob(key, tinyJob({}, { seed: 99 }));
    expect(ninth.status).toBe(429);
    expect(((await ninth.json()) as { code: string }).code).toBe("too_many_jobs_in_flight");
    // Finishing one frees a slot.
    const list = (await (await api("/v1/jobs", key)).json()) as { data: Array<{ id: string }> };
    await api(`/v1/jobs/${list.data[0]!.id}/cancel`, key, { method: "POST" });
    expect((await multipartJob(key, tinyJob({}, { seed: 100 }))).status).toBe(201);
  });
});
