/**
 * When the SDK sends a request again by itself. Only requests that are safe to repeat
 * (reads, an upload's PUT of the same bytes, and a job creation that carries an
 * Idempotency-Key, so a repeat replays the first job) are retried, and only after
 * failures that say nothing about the request: the connection broke (a keep-alive
 * socket closed under it, a reset), the API is rate-limiting (429), briefly unavailable
 * (502, 503, 504), or still working on the first send of the same Idempotency-Key (409
 * idempotency_in_progress: a resend after a reset can overtake it). Pure functions.
 */
export interface RetryPolicy {
  /** Further tries after the first (0 turns retrying off). */
  maxRetries: number;
  /** First backoff; doubled per retry, with full jitter. */
  baseDelayMs: number;
  /** Cap on one wait, Retry-After included (a longer Retry-After ends the retries). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 2, baseDelayMs: 500, maxDelayMs: 20_000 };

const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);
/** Refusals with another status that waiting does fix. */
const RETRYABLE_CODES = new Set(["idempotency_in_progress"]);
/** Safe or idempotent by HTTP's definition; DELETE is left out: a repeat would answer 404 to a delete that worked. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "PUT"]);

/** A request may be sent twice without a second effect. */
export function isRepeatable(method: string, headers: Record<string, string>): boolean {
  if (SAFE_METHODS.has(method.toUpperCase())) return true;
  return Object.keys(headers).some((h) => h.toLowerCase() === "idempotency-key");
}

export type Attempt =
  { kind: "response"; status: number; code: string | null; retryAfterSeconds: number | null } | { kind: "network_error" };

/**
 * How long to wait before retry number `retry` (1-based) after `attempt`, or null for
 * "do not retry". `random` is in [0, 1).
 */
export function retryDelayMs(policy: RetryPolicy, retry: number, attempt: Attempt, random: number): number | null {
  if (retry > policy.maxRetries) return null;
  if (attempt.kind === "response" && !RETRYABLE_STATUSES.has(attempt.status) && !RETRYABLE_CODES.has(attempt.code ?? "")) return null;
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1)) * random;
  if (attempt.kind === "response" && attempt.retryAfterSeconds !== null) {
    const asked = attempt.retryAfterSeconds * 1000;
    // The server said when; waiting longer than the cap is the caller's decision, not ours.
    return asked > policy.maxDelayMs ? null : Math.max(asked, backoff);
  }
  return backoff;
}
