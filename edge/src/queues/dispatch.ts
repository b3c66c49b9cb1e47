import { z } from "zod";
import { getConfig, type Config } from "../config/config.js";
import type { AppBindings } from "../env.js";
import { log } from "../lib/log.js";

const DispatchMessage = z.object({ job_id: z.string(), attempt: z.number().int().min(1) });

/** Exponential backoff for a busy or unreachable GPU pool: 2, 4, 8 ... capped at 60 s, or the pool's Retry-After. */
export function dispatchBackoffSeconds(deliveryAttempts: number, retryAfter: string | null): number {
  const hinted = Number(retryAfter);
  if (Number.isFinite(hinted) && hinted > 0) return Math.min(Math.ceil(hinted), 300);
  return Math.min(2 ** Math.max(1, deliveryAttempts), 60);
}

/**
 * Sends each queued job to a GPU function of its model's pool. Busy (429/503) or
 * unreachable pools are retried with backoff; once retries run out the message lands
 * in the dead-letter queue, whose consumer fails the job with `no_capacity`.
 */
export async function consumeDispatch(batch: MessageBatch<unknown>, env: AppBindings): Promise<void> {
  const config = getConfig(env);
  // Messages are independent jobs: dispatch them side by side.
  await Promise.all(batch.messages.map((message) => dispatchOne(message, env, config)));
}

async function dispatchOne(message: Message<unknown>, env: AppBindings, config: Config): Promise<void> {
  const parsed = DispatchMessage.safeParse(message.body);
  if (!parsed.success) {
    log("error", "dispatch message malformed; dropped", { body: message.body });
    message.ack();
    return;
  }
  const { job_id, attempt } = parsed.data;
  const job = env.JOBS.get(env.JOBS.idFromName(job_id));
  const request = await job.prepareDispatch(attempt);
  if (!request) {
    message.ack(); // stale: the job was canceled, aborted, finished or re-dispatched
    return;
  }
  const pools = config.pools[request.model] ?? [];
  if (pools.length === 0) {
    await job.failDispatch(attempt, { code: "no_capacity", message: `no GPU pool serves ${request.model} here`, retryable: false });
    message.ack();
    return;
  }
  // Rotate through the pool's URLs so a retry tries the next one.
  const pool = pools[(attempt - 1 + message.attempts - 1) % pools.length]!;
  try {
    const response = await fetch(`${pool}/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${config.dispatchToken}` },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(10_000),
    });
    if (response.status === 202 || response.status === 200) {
      await job.markDispatched(attempt, pool);
      message.ack();
    } else if (response.status === 429 || response.status === 503 || response.status >= 500) {
      await job.markWaitingForCapacity(attempt);
      message.retry({ delaySeconds: dispatchBackoffSeconds(message.attempts, response.headers.get("retry-after")) });
    } else {
      const detail = (await response.text()).slice(0, 500);
      log("warn", "GPU pool rejected job", { job_id, pool, status: response.status, detail });
      await job.failDispatch(attempt, { code: "dispatch_rejected", message: `the GPU function refused the job (${response.status}): ${detail}`, retryable: false });
      message.ack();
    }
  } catch (e) {
    log("warn", "GPU pool unreachable", { job_id, pool, error: String(e) });
    await job.markWaitingForCapacity(attempt);
    message.retry({ delaySeconds: dispatchBackoffSeconds(message.attempts, null) });
  }
}

/** Dispatch retries ran out: no GPU took the job. */
export async function consumeDispatchDeadLetters(batch: MessageBatch<unknown>, env: AppBindings): Promise<void> {
  for (const message of batch.messages) {
    const parsed = DispatchMessage.safeParse(message.body);
    if (parsed.success) {
      const job = env.JOBS.get(env.JOBS.idFromName(parsed.data.job_id));
      await job.failDispatch(parsed.data.attempt, { code: "no_capacity", message: "no GPU function accepted the job in time", retryable: true });
    }
    message.ack();
  }
}
