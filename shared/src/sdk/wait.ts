import { isTerminal, type Job, JobEvent } from "../api/job.js";
import type { EcomidClient } from "./client.js";
import { EcomidApiError, EcomidTimeoutError } from "./errors.js";
import { sleep } from "./sleep.js";
import { parseSse } from "./sse.js";

export interface WaitOptions {
  /** Every event of the job's stream, in order, each once (also those replayed on reconnect). */
  onEvent?: (event: JobEvent) => void;
  /** The job as each poll sees it, when waiting falls back to polling. */
  onPoll?: (job: Job) => void;
  signal?: AbortSignal;
  /** Give up (EcomidTimeoutError) after this long; the job itself keeps running. */
  timeoutMs?: number;
  /** false: poll only, never open the event stream. */
  stream?: boolean;
  /** First polling delay (default 500 ms), doubled after each poll up to maxPollMs (default 10 s). */
  pollMs?: number;
  maxPollMs?: number;
  /** Consecutive stream connections that bring nothing new before polling takes over (default 3). */
  maxStreamFailures?: number;
}

const TERMINAL_EVENTS = new Set(["job.succeeded", "job.failed", "job.canceled", "job.aborted"]);

/** See EcomidClient.waitForJob. */
export async function waitForJob(client: EcomidClient, id: string, options: WaitOptions = {}): Promise<Job> {
  const controller = new AbortController();
  const abort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) abort();
  options.signal?.addEventListener("abort", abort, { once: true });
  const timer =
    options.timeoutMs !== undefined
      ? setTimeout(
          () => controller.abort(new EcomidTimeoutError(`job ${id} did not finish within ${options.timeoutMs} ms`)),
          options.timeoutMs,
        )
      : undefined;
  try {
    const streamed = options.stream === false ? null : await followEvents(client, id, options, controller.signal);
    return streamed ?? (await poll(client, id, options, controller.signal));
  } catch (e) {
    // Whatever fetch threw on abort, callers get the reason: the timeout, or their own signal's.
    if (controller.signal.aborted) throw controller.signal.reason;
    throw e;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", abort);
  }
}

/**
 * Reads GET /v1/jobs/{id}/events, reconnecting with Last-Event-ID after each drop
 * (waiting the stream's `retry:` delay, or Retry-After when refused). Returns the
 * final job, or null to hand over to polling when the stream keeps failing.
 */
async function followEvents(client: EcomidClient, id: string, options: WaitOptions, signal: AbortSignal): Promise<Job | null> {
  let lastId = 0;
  let retryMs = 1000;
  let failures = 0;
  const maxFailures = options.maxStreamFailures ?? 3;
  while (failures < maxFailures) {
    signal.throwIfAborted();
    let progressed = false;
    try {
      const response = await client.send("GET", `/v1/jobs/${encodeURIComponent(id)}/events`, {
        headers: { accept: "text/event-stream", ...(lastId > 0 ? { "last-event-id": String(lastId) } : {}) },
        signal,
      });
      if (!(response.headers.get("content-type") ?? "").startsWith("text/event-stream") || !response.body) return null;
      for await (const message of parseSse(response.body)) {
        if (message.retry !== null) retryMs = message.retry;
        const event = parseEvent(message.data);
        if (!event || event.sequence <= lastId) continue;
        lastId = event.sequence;
        progressed = true;
        options.onEvent?.(event);
        if (TERMINAL_EVENTS.has(event.type)) return await client.getJob(id, signal);
      }
    } catch (e) {
      signal.throwIfAborted();
      if (e instanceof EcomidApiError && !isTransient(e)) throw e;
      if (e instanceof EcomidApiError && e.retryAfter !== null) retryMs = Math.max(retryMs, e.retryAfter * 1000);
    }
    // The stream ended without a terminal event: it dropped, or the terminal event was missed.
    const job = await client.getJob(id, signal);
    if (isTerminal(job.status)) return job;
    failures = progressed ? 0 : failures + 1;
    await sleep(retryMs, signal);
  }
  return null;
}

/** Polls GET /v1/jobs/{id} with exponential backoff; a Retry-After from the API overrides the delay. */
async function poll(client: EcomidClient, id: string, options: WaitOptions, signal: AbortSignal): Promise<Job> {
  let delay = options.pollMs ?? 500;
  const maxDelay = options.maxPollMs ?? 10_000;
  for (;;) {
    let wait = delay;
    try {
      const job = await client.getJob(id, signal);
      options.onPoll?.(job);
      if (isTerminal(job.status)) return job;
    } catch (e) {
      signal.throwIfAborted();
      if (e instanceof EcomidApiError && !isTransient(e)) throw e;
      if (e instanceof EcomidApiError && e.retryAfter !== null) wait = e.retryAfter * 1000;
    }
    await sleep(wait, signal);
    delay = Math.min(delay * 2, maxDelay);
  }
}

/** Rate limits, overload and server errors pass; anything else (404, 401...) will not change by waiting. */
function isTransient(e: EcomidApiError): boolean {
  return e.status === 429 || e.status >= 500 || e.code === "unexpected_response";
}

function parseEvent(data: string): JobEvent | null {
  if (data === "") return null;
  try {
    const parsed = JobEvent.safeParse(JSON.parse(data));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
