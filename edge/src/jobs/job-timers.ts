import { isTerminal, type JobStatus } from "@ecomid/shared/api";
import type { DispatchState, StoredJob } from "./types.js";

/** A job nobody took for this long fails with no_capacity (queue retries span ~48 min; this is the backstop). */
export const MAX_QUEUED_MS = 2 * 3600 * 1000;
/** No dispatch try for this long means the queue lost the message (backoffs are capped at 30 s). */
export const DISPATCH_SILENCE_MS = 5 * 60 * 1000;
/** After its output PUT URLs expire, a write that passed its checks just before may still be landing. */
export const OUTPUT_SWEEP_GRACE_MS = 5 * 60 * 1000;

/**
 * When a job's files must be swept again after they were deleted at `nowMs`: a GPU
 * function still holding the job's output PUT URLs (valid until `urlsExpireMs`) could
 * write under its prefix after the delete, and nothing else would ever remove that.
 * Null when the URLs have already expired.
 */
export function outputSweepAt(urlsExpireMs: number | null | undefined, nowMs: number): number | null {
  return urlsExpireMs && urlsExpireMs > nowMs ? urlsExpireMs + OUTPUT_SWEEP_GRACE_MS : null;
}

/** The clock-driven facts of one job: everything its alarm decides on. */
export interface JobClock {
  status: JobStatus;
  deadlineAtMs: number | null;
  /** Set while a GPU function holds the job; its reports push it forward. */
  leaseUntilMs: number | null;
  queuedSinceMs: number;
  /** When the dispatch consumer last tried this attempt (or it was queued). */
  lastDispatchTryMs: number;
  expiresAtMs: number | null;
  dataRemoved: boolean;
  /** Files were deleted while output PUT URLs were still valid: sweep the prefix again then. */
  outputSweepAtMs: number | null;
}

export type DueAction =
  /** The deadline passed: aborted if it never started, failed otherwise. */
  | "deadline"
  /** Queued past MAX_QUEUED_MS without a GPU taking it. */
  | "queued_too_long"
  /** Queued and no dispatch try for DISPATCH_SILENCE_MS: send the message again. */
  | "resend_dispatch"
  /** The GPU function stopped reporting. */
  | "lease_expired"
  /** A terminal job's retention ended: delete its files. */
  | "retention_ended"
  /** The output PUT URLs outlived the files' deletion and have now expired: delete what they wrote. */
  | "sweep_outputs"
  | "none";

export function jobClock(stored: StoredJob, dispatch: DispatchState): JobClock {
  const c = stored.core;
  return {
    status: c.status,
    deadlineAtMs: c.deadline_at ? Date.parse(c.deadline_at) : null,
    leaseUntilMs: dispatch.lease_until_ms,
    queuedSinceMs: dispatch.queued_since_ms,
    lastDispatchTryMs: Math.max(dispatch.queued_since_ms, dispatch.last_try_ms ?? 0),
    expiresAtMs: c.expires_at ? Date.parse(c.expires_at) : null,
    dataRemoved: c.data_removed,
    outputSweepAtMs: dispatch.output_sweep_at_ms ?? null,
  };
}

const waitingForGpu = (t: JobClock) => t.status === "queued" && t.leaseUntilMs === null;

/** What the job's alarm must do at `nowMs`; the first due timer wins, in this order. Pure. */
export function dueAction(t: JobClock, nowMs: number): DueAction {
  if (isTerminal(t.status)) {
    if (t.expiresAtMs !== null && t.expiresAtMs <= nowMs && !t.dataRemoved) return "retention_ended";
    return t.outputSweepAtMs !== null && t.outputSweepAtMs <= nowMs ? "sweep_outputs" : "none";
  }
  if (t.deadlineAtMs !== null && t.deadlineAtMs <= nowMs) return "deadline";
  if (waitingForGpu(t) && t.queuedSinceMs + MAX_QUEUED_MS <= nowMs) return "queued_too_long";
  if (waitingForGpu(t) && t.lastDispatchTryMs + DISPATCH_SILENCE_MS <= nowMs) return "resend_dispatch";
  if (t.leaseUntilMs !== null && t.leaseUntilMs <= nowMs) return "lease_expired";
  return "none";
}

/** When the alarm should next fire, or null for no alarm. Pure. */
export function nextAlarmAt(t: JobClock): number | null {
  const times: number[] = [];
  if (!isTerminal(t.status)) {
    if (t.deadlineAtMs !== null) times.push(t.deadlineAtMs);
    if (t.leaseUntilMs !== null) times.push(t.leaseUntilMs);
    else if (t.status === "queued") times.push(t.queuedSinceMs + MAX_QUEUED_MS, t.lastDispatchTryMs + DISPATCH_SILENCE_MS);
  } else {
    if (t.expiresAtMs !== null && !t.dataRemoved) times.push(t.expiresAtMs);
    if (t.outputSweepAtMs !== null) times.push(t.outputSweepAtMs);
  }
  return times.length ? Math.min(...times) : null;
}
