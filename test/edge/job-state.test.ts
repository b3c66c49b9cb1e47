import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { JobObject } from "../../edge/src/durable-objects/job-object.js";
import { testEnv, api, completeJob, createKey, gpuCallback, installPeer, multipartJob, runDispatch, tinyJob, waitFor } from "./helpers.js";

let peer: ReturnType<typeof installPeer>;
beforeEach(() => {
  peer = installPeer();
});
afterEach(() => peer.restore());

async function submit(key: string, overrides: Record<string, unknown> = {}, input: Record<string, unknown> = {}) {
  const res = await multipartJob(key, tinyJob(overrides, input));
  expect(res.status).toBe(201);
  const job = (await res.json()) as { id: string };
  return job.id;
}
async function dispatchOf(jobId: string, attempt = 1) {
  const result = await runDispatch(jobId, attempt);
  expect(result.explicitAcks).toHaveLength(1);
  const request = peer.dispatched.find((d) => d.job_id === jobId && d.attempt === attempt);
  if (!request) throw new Error(`job ${jobId} attempt ${attempt} was not dispatched`);
  return request;
}
const getJob = async (key: string, id: string) => (await (await api(`/v1/jobs/${id}`, key)).json()) as Record<string, any>;
const freshOwner = () => `o${crypto.randomUUID().slice(0, 8)}`;
const stub = (id: string) => testEnv.JOBS.get(testEnv.JOBS.idFromName(id));

/** Moves the job's lease or deadline into the past, then fires its alarm. */
async function expire(id: string, what: "lease" | "deadline") {
  await runInDurableObject(stub(id), async (instance: JobObject) => {
    const o = instance as unknown as { dispatch: { lease_until_ms: number }; stored: { core: { deadline_at: string } } };
    if (what === "lease") o.dispatch.lease_until_ms = Date.now() - 1;
    else o.stored.core.deadline_at = new Date(Date.now() - 1).toISOString();
  });
  await runDurableObjectAlarm(stub(id));
}

describe("durable job state", () => {
  it("dispatches again when the GPU function stops reporting, then fails with worker_lost after the last attempt", async () => {
    const { key } = await createKey(freshOwner());
    const id = await submit(key);
    const first = await dispatchOf(id, 1);
    await gpuCallback(first, { type: "started", attempt: 1 });
    await expire(id, "lease");
    const second = await dispatchOf(id, 2);
    expect(second.callback.secret).not.toBe(first.callback.secret);
    expect((await getJob(key, id)).attempt).toBe(2);

    // The lost attempt's late callbacks are refused and told to stop.
    const late = await gpuCallback(first, { type: "progress", attempt: 1, progress: { stage: "denoising", step: 3, total_steps: 4 } });
    expect(late.status).toBe(409);
    expect(((await late.json()) as { code: string }).code).toBe("stale_attempt");

    await expire(id, "lease");
    await dispatchOf(id, 3);
    await expire(id, "lease");
    const failed = await getJob(key, id);
    expect(failed.status).toBe("failed");
    expect(failed.error.code).toBe("worker_lost");
    expect(failed.error.retryable).toBe(false);
  });

  it("completes on a retried attempt, with outputs from that attempt only", async () => {
    const { key } = await createKey(freshOwner());
    const id = await submit(key);
    await dispatchOf(id, 1);
    await expire(id, "lease");
    const second = await dispatchOf(id, 2);
    expect((await completeJob(second)).status).toBe(200);
    const job = await getJob(key, id);
    expect(job.status).toBe("succeeded");
    expect(job.output[0].url).toContain("%2Fa2%2F".replace(/%2F/g, "/"));
  });

  it("aborts a job whose deadline passes before a GPU starts it, and drops its stale dispatch message", async () => {
    const { key } = await createKey(freshOwner());
    peer.script.poolStatus.push(503);
    const id = await submit(key, { deadline_seconds: 60 });
    const busy = await runDispatch(id);
    expect(busy.retryMessages).toHaveLength(1);
    expect((await getJob(key, id)).substatus).toBe("waiting_for_capacity");
    await expire(id, "deadline");
    const job = await getJob(key, id);
    expect(job.status).toBe("aborted");
    expect(job.error.code).toBe("deadline_exceeded");
    expect(job.started_at).toBeNull();
    const stale = await runDispatch(id, 1, 2);
    expect(stale.explicitAcks).toHaveLength(1);
    expect(peer.dispatched).toHaveLength(0);
  });

  it("retries a busy or unreachable GPU pool with exponential backoff, honouring Retry-After", async () => {
    const { key } = await createKey(freshOwner());
    const id = await submit(key);
    peer.script.poolStatus.push(429, 503);
    // The queue result does not expose delays; the backoff itself is checked below.
    expect((await runDispatch(id, 1, 1)).retryMessages).toHaveLength(1);
    expect((await runDispatch(id, 1, 3)).retryMessages).toHaveLength(1);
    const accepted = await runDispatch(id, 1, 4);
    expect(accepted.explicitAcks).toHaveLength(1);
    expect((await getJob(key, id)).substatus).toBe("dispatched");
    const { dispatchBackoffSeconds } = await import("../../edge/src/queues/dispatch.js");
    expect([1, 2, 3, 4].map((n) => dispatchBackoffSeconds(n, null))).toEqual([2, 4, 8, 16]);
    expect(dispatchBackoffSeconds(1, "17")).toBe(17);
    // A pool's short hint is a floor: it does not reset the backoff that spreads a burst's retries.
    expect(dispatchBackoffSeconds(4, "2")).toBe(16);
    expect(dispatchBackoffSeconds(10, null)).toBe(30);
    const retries = 100; // wrangler.toml max_retries of the dispatch queue
    const patience = Array.from({ length: retries }, (_, i) => dispatchBackoffSeconds(i + 1, "2")).reduce((a, b) => a + b, 0);
    expect(patience).toBeGreaterThan(30 * 60);
  });

  it("fails a job nobody dispatched for two hours with no_capacity (the backstop behind the queue)", async () => {
    const { key } = await createKey(freshOwner());
    const id = await submit(key);
    await runInDurableObject(stub(id), async (instance: JobObject) => {
      (instance as unknown as { dispatch: { queued_since_ms: number } }).dispatch.queued_since_ms = Date.now() - 2 * 3600 * 1000 - 1;
    });
    await runDurableObjectAlarm(stub(id));
    const job = await getJob(key, id);
    expect(job.status).toBe("failed");
    expect(job.error.code).toBe("no_capacity");
  });

  it("fails a job with no_capacity when its dispatch retries run out", async () => {
    const { key } = await createKey(freshOwner());
    const id = await submit(key);
    const { createExecutionContext, createMessageBatch, getQueueResult } = await import("cloudflare:test");
    const worker = (await import("../../edge/src/index.js")).default;
    const batch = createMessageBatch("ecomid-dispatch-dlq", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: { job_id: id, attempt: 1 } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch as MessageBatch<unknown>, env as never, ctx);
    await getQueueResult(batch, ctx);
    const job = await getJob(key, id);
    expect(job.status).toBe("failed");
    expect(job.error.code).toBe("no_capacity");
  });

  it("cancels a queued job, and a running one is told to stop by the pool and by its next callback", async () => {
    const { key } = await createKey(freshOwner());
    const id = await submit(key);
    const request = await dispatchOf(id);
    await gpuCallback(request, { type: "started", attempt: 1 });
    const canceled = await api(`/v1/jobs/${id}/cancel`, key, { method: "POST" });
    expect(canceled.status).toBe(200);
    expect(((await canceled.json()) as { status: string }).status).toBe("canceled");
    await waitFor(() => peer.canceled.includes(id), "cancel sent to the pool");
    const next = await gpuCallback(request, { type: "progress", attempt: 1, progress: { stage: "denoising", step: 2, total_steps: 4 } });
    expect(await next.json()).toMatchObject({ cancel: true, ignored: true });
    // A late upload is refused (the attempt is over), and the job stays canceled.
    await expect(completeJob(request)).rejects.toThrow(/output upload failed: 409/);
    expect((await getJob(key, id)).status).toBe("canceled");
    const again = await api(`/v1/jobs/${id}/cancel`, key, { method: "POST" });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe("job_not_cancelable");
  });

  it("ignores repeated callbacks and refuses forged ones", async () => {
    const { key } = await createKey(freshOwner());
    const id = await submit(key);
    const request = await dispatchOf(id);
    const forged = await gpuCallback(request, { type: "started", attempt: 1 }, "x".repeat(43));
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { code: string }).code).toBe("signature_invalid");
    await completeJob(request);
    const first = await getJob(key, id);
    const repeat = await completeJob(request);
    expect(await repeat.json()).toMatchObject({ ok: true, ignored: true });
    const second = await getJob(key, id);
    expect(second.updated_at).toBe(first.updated_at);
    const events = await (await api(`/v1/jobs/${id}/events`, key)).text();
    expect(events.match(/event: job.succeeded/g)).toHaveLength(1);
  });

  it("fails a job with a clear code when the GPU reports a non-retryable failure", async () => {
    const { key } = await createKey(freshOwner());
    const id = await submit(key);
    const request = await dispatchOf(id);
    await gpuCallback(request, {
      type: "failed",
      attempt: 1,
      error: {
        code: "face_not_detected",
        message: "no face in the reference image",
        retryable: false,
        hint: "use a photo where the face is clearly visible",
      },
      faces: [],
    });
    const job = await getJob(key, id);
    expect(job.status).toBe("failed");
    expect(job.error).toMatchObject({ code: "face_not_detected", hint: expect.stringContaining("face") });
    expect(job.faces).toEqual([]);
  });

  it("re-dispatches a job handed back by a draining GPU function without using up an attempt", async () => {
    const { key } = await createKey(freshOwner());
    const id = await submit(key);
    const shutdown = { code: "worker_shutdown", message: "the GPU function is shutting down", retryable: true } as const;
    // MAX_ATTEMPTS is 3: after three hand-backs the job still has all three of its attempts.
    for (let attempt = 1; attempt <= 3; attempt++) {
      const request = await dispatchOf(id, attempt);
      await gpuCallback(request, { type: "started", attempt });
      await gpuCallback(request, { type: "failed", attempt, error: shutdown });
      expect(await getJob(key, id)).toMatchObject({ status: "queued", attempt: attempt + 1 });
    }
    const crash = { code: "worker_crashed", message: "the inference process died", retryable: true } as const;
    for (let attempt = 4; attempt <= 5; attempt++) {
      const request = await dispatchOf(id, attempt);
      await gpuCallback(request, { type: "failed", attempt, error: crash });
      expect(await getJob(key, id)).toMatchObject({ status: "queued", attempt: attempt + 1 });
    }
    const last = await dispatchOf(id, 6);
    await gpuCallback(last, { type: "failed", attempt: 6, error: crash });
    expect(await getJob(key, id)).toMatchObject({ status: "failed", attempt: 6, error: { code: "worker_crashed" } });
  });

  it("refuses a success whose outputs were never uploaded, and retries the job", async () => {
    const { key } = await createKey(freshOwner());
    const id = await submit(key);
    const request = await dispatchOf(id);
    await gpuCallback(request, {
      type: "succeeded",
      attempt: 1,
      outputs: [
        { index: 0, content_type: "image/webp", bytes: 10, sha256: "x", width: 64, height: 64, seed: 7, identity_similarity: null },
      ],
      intermediates: [],
      faces: [],
      chosen_face: 0,
      timings: { run_ms: 1, stages_ms: {} },
    });
    const job = await getJob(key, id);
    expect(job.status).toBe("queued");
    expect(job.attempt).toBe(2);
  });

  it("records per-phase timestamps and metrics", async () => {
    const { key } = await createKey(freshOwner());
    const id = await submit(key);
    const request = await dispatchOf(id);
    await gpuCallback(request, { type: "started", attempt: 1 });
    await completeJob(request);
    const job = await getJob(key, id);
    for (const t of ["created_at", "started_at", "completed_at", "expires_at"]) expect(Date.parse(job[t])).not.toBeNaN();
    expect(job.metrics.queue_ms).toBeGreaterThanOrEqual(0);
    expect(job.metrics.total_ms).toBeGreaterThanOrEqual(job.metrics.queue_ms);
    expect(job.metrics.stages_ms).toEqual({ denoise: 1000 });
  });
});
