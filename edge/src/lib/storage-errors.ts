/**
 * Storage failures a later try may not meet: Durable Object infrastructure errors
 * (which carry `.retryable` or `.overloaded`, see Cloudflare's "Durable Objects: Error
 * handling"), and SQLite running out of memory or locks. In the local runtime every
 * Durable Object shares one process and its SQLite heap limit (512 MiB in workerd
 * 1.20260426): a caller then sees "out of memory: SQLITE_NOMEM", or, when the object
 * broke on it, the runtime's opaque "internal error; reference = ...".
 */
const TRANSIENT_STORAGE =
  /\bSQLITE_(NOMEM|BUSY|LOCKED|FULL|IOERR|PROTOCOL)\b|^internal error; reference = \w+$|Network connection lost|Durable Object is overloaded|Durable Object reset because|due to a transient issue/im;

/** Seconds a client should wait before trying again, or null when `err` is no storage failure. */
export function storageRetryAfterSeconds(err: unknown): number | null {
  if (!(err instanceof Error)) return null;
  const flags = err as Error & { retryable?: unknown; overloaded?: unknown };
  // An overloaded object gets worse with quick retries: ask for a longer wait.
  if (flags.overloaded === true) return 5;
  if (flags.retryable === true) return 1;
  return TRANSIENT_STORAGE.test(`${err.message}\n${String(err.cause ?? "")}`) ? 1 : null;
}
