import { describe, expect, it } from "vitest";
import { EcomidApiError } from "./errors.js";
import { fakeJob, problem, sendJson, fakeApiPerTest } from "./fake-api.test-util.js";
import { DEFAULT_RETRY_POLICY, isRepeatable, retryDelayMs } from "./retry.js";

const policy = DEFAULT_RETRY_POLICY;
const status = (s: number, retryAfterSeconds: number | null = null, code: string | null = null) => ({
  kind: "response" as const,
  status: s,
  code,
  retryAfterSeconds,
});

describe("retry policy", () => {
  it("retries broken connections, 429, 502, 503 and 504, and nothing a repeat cannot change", () => {
    for (const s of [429, 502, 503, 504]) expect(retryDelayMs(policy, 1, status(s), 0.5), `status ${s}`).not.toBeNull();
    expect(retryDelayMs(policy, 1, { kind: "network_error" }, 0.5)).not.toBeNull();
    for (const s of [400, 401, 403, 404, 409, 413, 422, 500]) expect(retryDelayMs(policy, 1, status(s), 0.5), `status ${s}`).toBeNull();
  });

  it("waits out a 409 only when the first send of the same Idempotency-Key is still being processed", () => {
    expect(retryDelayMs(policy, 1, status(409, 1, "idempotency_in_progress"), 0.5)).toBe(1000);
    expect(retryDelayMs(policy, 1, status(409, null, "idempotency_key_reused"), 0.5)).toBeNull();
    expect(retryDelayMs(policy, 1, status(409, null, "job_not_cancelable"), 0.5)).toBeNull();
  });

  it("doubles the backoff per retry with full jitter, stops after maxRetries", () => {
    expect(retryDelayMs(policy, 1, status(503), 0.999)).toBeCloseTo(policy.baseDelayMs * 0.999);
    expect(retryDelayMs(policy, 2, status(503), 0.999)).toBeCloseTo(policy.baseDelayMs * 2 * 0.999);
    expect(retryDelayMs(policy, 2, status(503), 0)).toBe(0);
    expect(retryDelayMs(policy, policy.maxRetries + 1, status(503), 0.5)).toBeNull();
    expect(retryDelayMs({ ...policy, maxRetries: 0 }, 1, { kind: "network_error" }, 0.5)).toBeNull();
  });

  it("waits at least Retry-After, and gives up when Retry-After is beyond the cap", () => {
    expect(retryDelayMs(policy, 1, status(429, 3), 0.5)).toBe(3000);
    expect(retryDelayMs(policy, 1, status(503, 0), 0.5)).toBe(policy.baseDelayMs * 0.5);
    expect(retryDelayMs(policy, 1, status(429, policy.maxDelayMs / 1000 + 1), 0.5)).toBeNull();
  });

  it("repeats reads, PUTs and requests with an Idempotency-Key only", () => {
    expect(isRepeatable("GET", {})).toBe(true);
    expect(isRepeatable("get", {})).toBe(true);
    expect(isRepeatable("POST", { "Idempotency-Key": "k" })).toBe(true);
    expect(isRepeatable("PUT", {})).toBe(true);
    expect(isRepeatable("POST", {})).toBe(false);
    expect(isRepeatable("DELETE", {})).toBe(false);
  });
});

// Millisecond backoffs keep the tests fast; the policy above is the default's.
const setup = fakeApiPerTest("", { retry: { baseDelayMs: 1 } });

describe("EcomidClient retries", () => {
  it("reads again after a 503 and returns the answer that followed", async () => {
    let calls = 0;
    const { client, fake } = await setup((_req, res) =>
      ++calls === 1 ? sendJson(res, 503, problem(503, "no_capacity", "busy"), { "retry-after": "0" }) : sendJson(res, 200, fakeJob()),
    );
    expect((await client.getJob("job_x")).id).toMatch(/^job_/);
    expect(fake.requests).toHaveLength(2);
  });

  it("sends a job creation again after the connection broke, with the same Idempotency-Key it made up", async () => {
    let calls = 0;
    const { client, fake } = await setup((_req, res) => {
      // The first request dies with its socket, as when a keep-alive connection is closed under it.
      if (++calls === 1) return res.socket?.destroy();
      sendJson(res, 201, fakeJob());
    });
    const job = await client.createJob({ model: "ecomid-tiny", input: { reference_images: [{ upload_id: "upl_x" }], prompt: "p" } });
    expect(job.status).toBe("queued");
    expect(fake.requests).toHaveLength(2);
    const keys = fake.requests.map((r) => r.headers["idempotency-key"]);
    expect(keys[0]).toMatch(/^sdk-[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(fake.requests[1]!.body.equals(fake.requests[0]!.body)).toBe(true);
  });

  it("sends a job creation again after the API's storage was briefly unavailable (503 temporarily_unavailable), after its Retry-After", async () => {
    let calls = 0;
    const { client, fake } = await setup((_req, res) =>
      ++calls === 1
        ? sendJson(res, 503, problem(503, "temporarily_unavailable", "storage is briefly unavailable"), { "retry-after": "0" })
        : sendJson(res, 201, fakeJob()),
    );
    const job = await client.createJob({ model: "ecomid-tiny", input: { reference_images: [{ upload_id: "upl_x" }], prompt: "p" } });
    expect(job.status).toBe("queued");
    const keys = fake.requests.map((r) => r.headers["idempotency-key"]);
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
  });

  it("a resend that overtakes the first send of its key waits for it and gets the job", async () => {
    let calls = 0;
    const { client, fake } = await setup((_req, res) =>
      ++calls === 1
        ? sendJson(res, 409, problem(409, "idempotency_in_progress", "still processing"), { "retry-after": "0" })
        : sendJson(res, 201, fakeJob()),
    );
    const job = await client.createJob(
      { model: "ecomid-tiny", input: { reference_images: [{ upload_id: "upl_x" }], prompt: "p" } },
      { idempotencyKey: "order-7" },
    );
    expect(job.status).toBe("queued");
    expect(fake.requests.map((r) => r.headers["idempotency-key"])).toEqual(["order-7", "order-7"]);
  });

  it("re-sends a multipart creation whole", async () => {
    let calls = 0;
    const { client, fake } = await setup((_req, res) =>
      ++calls === 1 ? sendJson(res, 502, problem(502, "internal_error", "gateway")) : sendJson(res, 201, fakeJob()),
    );
    await client.createJob(
      { input: { reference_images: [{ file: "face" }], prompt: "p" } },
      { files: { face: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2]) } },
    );
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]!.body.byteLength).toBe(fake.requests[0]!.body.byteLength);
    expect(fake.requests[1]!.body.byteLength).toBeGreaterThan(0);
  });

  it("puts an upload's bytes again after a 503, without the API key", async () => {
    let puts = 0;
    const { client, fake } = await setup((req, res) => {
      if (req.method === "POST") {
        return sendJson(res, 201, {
          id: "upl_1",
          object: "upload",
          status: "pending",
          content_type: "image/png",
          bytes: 6,
          upload_url: "/files/u?sig=1",
          upload_url_expires_at: "2026-11-26T08:15:00.000Z",
          width: null,
          height: null,
          sha256: null,
          created_at: "2026-11-26T08:00:00.000Z",
          expires_at: "2026-11-27T08:00:00.000Z",
        });
      }
      if (++puts === 1) return sendJson(res, 503, problem(503, "no_capacity", "busy"), { "retry-after": "0" });
      sendJson(res, 201, { bytes: 6 });
    });
    expect(await client.uploadFile(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2]), "image/png")).toBe("upl_1");
    const putRequests = fake.requests.filter((r) => r.method === "PUT");
    expect(putRequests).toHaveLength(2);
    expect(putRequests.map((r) => r.headers.authorization)).toEqual([undefined, undefined]);
    expect(putRequests[1]!.body.byteLength).toBe(6);
  });

  it("does not repeat a POST without an Idempotency-Key (cancel), nor a refusal", async () => {
    const { client, fake } = await setup((req, res) =>
      req.url.endsWith("/cancel")
        ? sendJson(res, 503, problem(503, "no_capacity", "busy"))
        : sendJson(res, 422, problem(422, "invalid_request", "bad")),
    );
    await expect(client.cancelJob("job_x")).rejects.toMatchObject({ status: 503 });
    await expect(client.getJob("job_x")).rejects.toMatchObject({ status: 422 });
    expect(fake.requests).toHaveLength(2);
  });

  it("gives up after maxRetries with the last error", async () => {
    const { client, fake } = await setup((_req, res) => sendJson(res, 503, problem(503, "no_capacity", "still busy")));
    const error = await client.getJob("job_x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EcomidApiError);
    expect(error).toMatchObject({ status: 503, detail: "still busy" });
    expect(fake.requests).toHaveLength(1 + DEFAULT_RETRY_POLICY.maxRetries);
  });

  it("stops waiting to retry when the caller aborts", async () => {
    const { client, fake } = await setup((_req, res) =>
      sendJson(res, 429, problem(429, "rate_limited", "slow down"), { "retry-after": "10" }),
    );
    const controller = new AbortController();
    const pending = client.getJob("job_x", controller.signal).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    controller.abort(new Error("caller gave up"));
    expect(await pending).toMatchObject({ message: "caller gave up" });
    expect(fake.requests).toHaveLength(1);
  });
});
