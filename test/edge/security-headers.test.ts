import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../edge/src/index.js";
import { log, redact, REDACTED } from "../../edge/src/lib/log.js";
import {
  api,
  BASE,
  completeJob,
  createKey,
  installPeer,
  multipartJob,
  runDispatch,
  runWebhookDeliveries,
  tinyJob,
  HOOK,
  gpuCallback,
} from "./helpers.js";

const freshOwner = () => `o${crypto.randomUUID().slice(0, 8)}`;

/** The worker under an environment with `vars` changed (a fresh config parse). */
async function withVars(vars: Record<string, string>, request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, { ...(env as object), ...vars } as never, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

const preflight = (origin: string, path = "/v1/jobs") =>
  new Request(`${BASE}${path}`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type, idempotency-key",
    },
  });

describe("CORS", () => {
  it("answers a preflight before authentication, allowing any origin by default (bearer keys, no cookies)", async () => {
    const res = await api("/v1/jobs", null, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, idempotency-key",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toMatch(/POST/);
    const allowedHeaders = res.headers.get("access-control-allow-headers")!.split(/,\s*/);
    for (const h of ["authorization", "content-type", "idempotency-key", "last-event-id"]) expect(allowedHeaders).toContain(h);
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("exposes the rate-limit, retry, request-id and replay headers to browser code", async () => {
    const { key } = await createKey(freshOwner());
    const res = await api("/v1/jobs", key, { headers: { origin: "https://app.example" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const exposed = res.headers.get("access-control-expose-headers")!.split(/,\s*/);
    for (const h of ["ratelimit", "ratelimit-policy", "retry-after", "x-request-id", "idempotent-replayed"]) expect(exposed).toContain(h);
    // A refusal is readable too, so a browser client sees the problem and its request id.
    const refused = await api("/v1/jobs", null, { headers: { origin: "https://app.example" } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("honours a configured list of origins exactly", async () => {
    const vars = { CORS_ALLOWED_ORIGINS: "https://shop.example, https://admin.shop.example" };
    const ok = await withVars(vars, preflight("https://admin.shop.example"));
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://admin.shop.example");
    expect(ok.headers.get("vary")).toMatch(/Origin/i);

    for (const origin of ["https://evil.example", "https://shop.example.evil.example", "http://shop.example", "null"]) {
      const refused = await withVars(vars, preflight(origin));
      expect(refused.status, origin).toBe(403);
      expect(refused.headers.get("access-control-allow-origin"), origin).toBeNull();
      expect(refused.headers.get("content-type")).toMatch(/problem\+json/);
    }
    const simple = await withVars(vars, new Request(`${BASE}/v1/models`, { headers: { origin: "https://evil.example" } }));
    expect(simple.status).toBe(200);
    expect(simple.headers.get("access-control-allow-origin")).toBeNull();
    expect(simple.headers.get("vary")).toMatch(/Origin/i);
    const listed = await withVars(vars, new Request(`${BASE}/v1/models`, { headers: { origin: "https://shop.example" } }));
    expect(listed.headers.get("access-control-allow-origin")).toBe("https://shop.example");
  });
});

describe("security headers", () => {
  it("sets nosniff, no framing and no referrer on every response, refusals and 404s included", async () => {
    const { key } = await createKey(freshOwner());
    for (const [path, k] of [
      ["/v1/models", null],
      ["/v1/jobs", key],
      ["/v1/jobs", null],
      ["/nope", null],
      ["/health", null],
    ] as const) {
      const res = await api(path, k);
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(res.headers.get("x-frame-options"), path).toBe("DENY");
      expect(res.headers.get("referrer-policy"), path).toBe("no-referrer");
      expect(res.headers.get("content-security-policy"), path).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
      expect(res.headers.get("cross-origin-opener-policy"), path).toBe("same-origin");
      // Other sites may show the output images they were sent: no Cross-Origin-Resource-Policy.
      expect(res.headers.get("cross-origin-resource-policy"), path).toBeNull();
      expect(res.headers.get("x-request-id"), path).toBeTruthy();
    }
  });

  it("adds HSTS only when served over https", async () => {
    const https = await withVars({}, new Request("https://api.ecomid.example/health"));
    expect(https.headers.get("strict-transport-security")).toMatch(/max-age=\d{7,}/);
    expect((await api("/health", null)).headers.get("strict-transport-security")).toBeNull();
  });

  it("gives the playground and the docs page a nonce CSP that their own inline code satisfies, and nothing else", async () => {
    const seen = new Set<string>();
    for (const path of ["/", "/docs"]) {
      const res = await api(path, null);
      expect(res.status).toBe(200);
      const csp = res.headers.get("content-security-policy")!;
      const html = await res.text();
      const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
      seen.add(nonce);
      expect(csp).toMatch(/default-src 'none'/);
      expect(csp).toMatch(/frame-ancestors 'none'/);
      expect(csp).toMatch(/connect-src 'self'/);
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|http:|\*/);
      // Every inline script and style carries the nonce; nothing loads from elsewhere; no inline handlers or style attributes.
      const tags = html.match(/<(script|style)\b[^>]*>/g) ?? [];
      expect(tags.length, path).toBeGreaterThan(0);
      for (const tag of tags) expect(tag, path).toContain(`nonce="${nonce}"`);
      expect(html).not.toMatch(/<(script|link|img|iframe)\b[^>]*\b(src|href)="(https?:)?\/\//);
      expect(html).not.toMatch(/\son[a-z]+="/);
      expect(html).not.toMatch(/\sstyle="/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    }
    const again = (await api("/", null)).headers.get("content-security-policy")!;
    expect(seen.has(/'nonce-([^']+)'/.exec(again)![1]!)).toBe(false);
  });
});

describe("no secrets in logs", () => {
  afterEach(() => vi.restoreAllMocks());

  it("redacts secret-named fields at any depth and secret-shaped text anywhere", () => {
    const apiKey = "ek_live_" + "A".repeat(32);
    const out = redact({
      authorization: "Bearer abc.def",
      key: "k",
      api_key: apiKey,
      callbackSecret: "cb",
      GPU_DISPATCH_TOKEN: "tok",
      signature: "t=1,v1=abc",
      nested: { list: [{ password: "p", webhook_secret: "whsec_abcdefghijkl" }] },
      message: `failed for ${apiKey} with whsec_0123456789abcdef`,
      url: "https://api.example/files/jobs/o/j/0.webp?method=GET&exp=1&sig=0123456789abcdef0123",
      presigned: "https://x.r2.cloudflarestorage.com/b/k?X-Amz-Credential=AKIA%2Fx&X-Amz-Signature=deadbeef",
      header: "ecomid-signature: t=1,v1=0123456789abcdef0123456789abcdef",
      job_id: "job_123",
      status: 503,
    }) as Record<string, any>;
    for (const f of ["authorization", "key", "api_key", "callbackSecret", "GPU_DISPATCH_TOKEN", "signature"])
      expect(out[f], f).toBe(REDACTED);
    expect(out.nested.list[0]).toEqual({ password: REDACTED, webhook_secret: REDACTED });
    const text = JSON.stringify(out);
    for (const secret of [apiKey, "whsec_0123456789abcdef", "0123456789abcdef0123", "AKIA", "deadbeef", "abc.def"])
      expect(text).not.toContain(secret);
    expect(out.url).toContain("/files/jobs/o/j/0.webp?method=GET&exp=1&sig=");
    expect(out.job_id).toBe("job_123");
    expect(out.status).toBe(503);
  });

  it("log() writes redacted JSON lines", () => {
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: string) => void lines.push(line));
    log("warn", "GPU pool rejected Bearer sekrit-token-value", { token: "t0k3n", detail: "authorization: Bearer sekrit-token-value" });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain("sekrit-token-value");
    expect(lines[0]).not.toContain("t0k3n");
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "warn", token: REDACTED });
  });

  it("a whole job (creation, dispatch, callbacks, outputs, webhook, a refused pool) logs no key, secret or token", async () => {
    const lines: string[] = [];
    for (const m of ["log", "warn", "error", "info", "debug"] as const) {
      const real = console[m].bind(console);
      vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(" "));
        real(...args);
      });
    }
    const peer = installPeer();
    try {
      const { key } = await createKey(freshOwner());
      peer.script.poolStatus.push(503);
      const job = (await (await multipartJob(key, tinyJob({ webhook: { url: HOOK } }))).json()) as { id: string };
      await runDispatch(job.id);
      await runDispatch(job.id);
      const request = peer.dispatched.find((d) => d.job_id === job.id)!;
      await gpuCallback(request, { type: "started", attempt: 1 }, "forged-secret-forged-secret-forged-secret");
      await completeJob(request);
      await runWebhookDeliveries(job.id);
      await api(`/v1/jobs/${job.id}`, key);
      const secrets = [
        key,
        request.callback.secret,
        "test-signing-secret-0123456789abcdef",
        "test-dispatch-token-0123456789",
        "forged-secret-forged",
      ];
      const sigs = [request.outputs[0]!.put_url, request.spec.reference_images[0]!.url].map((u) => new URL(u).searchParams.get("sig")!);
      expect(lines.length).toBeGreaterThan(0);
      for (const secret of [...secrets, ...sigs]) expect(lines.join("\n")).not.toContain(secret);
    } finally {
      peer.restore();
    }
  });
});
