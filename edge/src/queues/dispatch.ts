import { GPU_REFUSAL_STATUS, type GpuJobRequest } from "@ecomid/shared/protocol";
import { getConfig, type Config } from "../config/config.js";
import { poolMonitor } from "../durable-objects/pool-monitor.js";
import { fetchPool, isRedirect } from "../pools/pool-fetch.js";
import type { AppBindings } from "../env.js";
import { log } from "../lib/log.js";
import { DispatchMessage, readMessage } from "./messages.js";

/** The longest wait between two tries of a job while every pool is busy: what a freed GPU may sit idle. */
export const MAX_DISPATCH_BACKOFF_SECONDS = 30;

/**
 * Exponential backoff while every GPU pool is busy or down: 2, 4, 8, 16, then every
 * 30 s, never sooner than a pool's Retry-After. The pool's hint is a floor, not the
 * delay: a GPU function says "2 s" whenever it is full, and retrying every 2 s would
 * spend the queue's retries (100, see wrangler.toml) in minutes, failing a job as
 * no_capacity during a burst that clears in a quarter of an hour (about 48 min here).
 */
export function dispatchBackoffSeconds(deliveryAttempts: number, retryAfter: string | null): number {
  const hinted = Number(retryAfter);
  const floor = Number.isFinite(hinted) && hinted > 0 ? Math.min(Math.ceil(hinted), 300) : 0;
  return Math.max(floor, Math.min(2 ** Math.max(1, deliveryAttempts), MAX_DISPATCH_BACKOFF_SECONDS));
}

type SendResult =
  | { kind: "accepted" }
  | { kind: "busy"; retryAfter: string | null }
  | { kind: "failed"; error: string }
  | { kind: "rejected"; status: number; detail: string };

/**
 * Sends each queued job to a GPU function of its model. A model may have several
 * pools (regions, clusters, serverless endpoints): healthy ones are tried least
 * loaded first, and a pool whose health fails gets nothing until it passes again
 * (pool-monitor.ts). When every pool is busy or down the message is retried with
 * backoff; once retries run out it lands in the dead-letter queue, whose consumer
 * fails the job with `no_capacity`.
 */
export async function consumeDispatch(batch: MessageBatch<unknown>, env: AppBindings): Promise<void> {
  const config = getConfig(env);
  // Messages are independent jobs: dispatch them side by side.
  await Promise.all(batch.messages.map((message) => dispatchOne(message, batch.queue, env, config)));
}

async function dispatchOne(message: Message<unknown>, queue: string, env: AppBindings, config: Config): Promise<void> {
  const body = readMessage(DispatchMessage, message, queue);
  if (!body) return;
  const { job_id, attempt } = body;
  const job = env.JOBS.get(env.JOBS.idFromName(job_id));
  const prepared = await job.prepareDispatch(attempt);
  if (!prepared) {
    message.ack(); // stale: the job was canceled, aborted, finished or re-dispatched
    return;
  }
  // RPC typing widens tuples (keypoints) to arrays; the object is the GpuJobRequest the job built.
  const request = prepared.request as GpuJobRequest;
  const requestId = prepared.requestId;
  const urls = config.pools[request.model] ?? [];
  if (urls.length === 0) {
    await job.failDispatch(attempt, { code: "no_capacity", message: `no GPU pool serves ${request.model} here`, retryable: false });
    message.ack();
    return;
  }
  const monitor = poolMonitor(env);
  const candidates = await monitor.choose(urls);
  let retryAfter: string | null = null;
  for (const pool of candidates) {
    const result = await sendToPool(pool, request, requestId, config);
    if (result.kind === "accepted") {
      await monitor.report(pool, "accepted");
      await monitor.dispatched(request.model, job_id);
      await job.markDispatched(attempt, pool);
      log("info", "job dispatched", { job_id, request_id: requestId, attempt, pool });
      message.ack();
      return;
    }
    if (result.kind === "rejected") {
      log("warn", "GPU pool rejected job", { job_id, request_id: requestId, pool, status: result.status, detail: result.detail });
      await job.failDispatch(attempt, {
        code: "dispatch_rejected",
        message: `the GPU function refused the job (${result.status}): ${result.detail}`,
        retryable: false,
      });
      message.ack();
      return;
    }
    if (result.kind === "busy") retryAfter = result.retryAfter;
    else log("warn", "GPU pool unreachable", { job_id, request_id: requestId, pool, error: result.error });
    await monitor.report(pool, result.kind, result.kind === "failed" ? result.error : null);
  }
  if (candidates.length === 0)
    log("warn", "no healthy GPU pool for the model; waiting", { job_id, request_id: requestId, model: request.model });
  await job.markWaitingForCapacity(attempt);
  // Woken as soon as a GPU slot of the model frees; the backoff retry is the fallback.
  await monitor.wait(request.model, job_id, attempt);
  message.retry({ delaySeconds: dispatchBackoffSeconds(message.attempts, retryAfter) });
}

/** A GPU function that is full, loading or draining takes the job later; so may a proxy's 503 before it. */
const TRY_LATER_STATUSES: ReadonlySet<number> = new Set([
  GPU_REFUSAL_STATUS.busy,
  GPU_REFUSAL_STATUS.not_ready,
  GPU_REFUSAL_STATUS.draining,
]);

async function sendToPool(pool: string, request: GpuJobRequest, requestId: string | null, config: Config): Promise<SendResult> {
  try {
    const response = await fetchPool(`${pool}/v1/jobs`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${config.dispatchToken}`,
        ...(requestId ? { "x-request-id": requestId } : {}),
      },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status === 202 || response.status === 200) return { kind: "accepted" };
    if (isRedirect(response.status))
      return {
        kind: "failed",
        error: `HTTP ${response.status}: a redirect (to ${response.headers.get("location") ?? "nowhere"}), not followed`,
      };
    if (TRY_LATER_STATUSES.has(response.status)) return { kind: "busy", retryAfter: response.headers.get("retry-after") };
    if (response.status >= 500) return { kind: "failed", error: `HTTP ${response.status}` };
    // The pool serves another bundle (a rollout half done, or misconfigured): the job may suit another pool.
    if (response.status === GPU_REFUSAL_STATUS.bundle_mismatch)
      return { kind: "failed", error: `HTTP 409: ${(await response.text()).slice(0, 200)}` };
    return { kind: "rejected", status: response.status, detail: (await response.text()).slice(0, 500) };
  } catch (e) {
    return { kind: "failed", error: e instanceof Error ? e.message : String(e) };
  }
}

/** Dispatch retries ran out: no GPU took the job. */
export async function consumeDispatchDeadLetters(batch: MessageBatch<unknown>, env: AppBindings): Promise<void> {
  for (const message of batch.messages) {
    const body = readMessage(DispatchMessage, message, batch.queue);
    if (!body) continue;
    const job = env.JOBS.get(env.JOBS.idFromName(body.job_id));
    await job.failDispatch(body.attempt, { code: "no_capacity", message: "no GPU function accepted the job in time", retryable: true });
    message.ack();
  }
}
