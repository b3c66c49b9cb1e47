/** What the edge knows about one GPU-function pool (a base URL: a k8s Service, a serverless endpoint). */
export interface PoolHealth {
  url: string;
  healthy: boolean;
  /** When the pool was last probed or answered a dispatch; health older than the TTL is probed again. */
  checked_at_ms: number;
  consecutive_failures: number;
  in_flight: number | null;
  capacity: number | null;
  last_error: string | null;
}

/** Share of a pool's capacity in use; an unknown load ranks in the middle. */
export function loadRatio(p: PoolHealth): number {
  if (p.in_flight === null || p.capacity === null || p.capacity <= 0) return 0.5;
  return Math.min(1, p.in_flight / p.capacity);
}

/**
 * The pools one dispatch should try, best first: healthy ones only, least loaded
 * first, ties in random order so equal pools share the work. Pure: the random draw
 * is a parameter.
 */
export function rankPools(pools: readonly PoolHealth[], random: () => number = Math.random): string[] {
  return pools
    .filter((p) => p.healthy)
    .map((p) => ({ url: p.url, load: loadRatio(p), tie: random() }))
    .sort((a, b) => a.load - b.load || a.tie - b.tie)
    .map((p) => p.url);
}

/** Consecutive dispatch failures (network errors, 5xx other than 503) after which a pool is taken out until a probe passes. */
export const FAILURES_BEFORE_UNHEALTHY = 2;

export type DispatchOutcome = "accepted" | "busy" | "failed";

/** The pool's health after a dispatch to it ended with `outcome`. Pure. */
export function afterDispatch(p: PoolHealth, outcome: DispatchOutcome, nowMs: number, error: string | null = null): PoolHealth {
  if (outcome === "accepted")
    return {
      ...p,
      healthy: true,
      consecutive_failures: 0,
      checked_at_ms: nowMs,
      last_error: null,
      in_flight: p.in_flight === null ? null : p.in_flight + 1,
    };
  // Busy is healthy but full: it sorts last until the next probe says otherwise.
  if (outcome === "busy") return { ...p, checked_at_ms: nowMs, in_flight: p.capacity ?? p.in_flight };
  const failures = p.consecutive_failures + 1;
  return {
    ...p,
    consecutive_failures: failures,
    healthy: p.healthy && failures < FAILURES_BEFORE_UNHEALTHY,
    checked_at_ms: nowMs,
    last_error: error,
  };
}

/** Health from a probe of `GET {pool}/health`: only a 200 with status "ok" takes work (loading, draining and failed do not). */
export function fromProbe(url: string, nowMs: number, probe: { status: number; body: unknown } | { error: string }): PoolHealth {
  const base = { url, checked_at_ms: nowMs, in_flight: null, capacity: null };
  if ("error" in probe) return { ...base, healthy: false, consecutive_failures: 1, last_error: probe.error };
  const body = (probe.body ?? {}) as { status?: unknown; in_flight?: unknown; capacity?: unknown; error?: unknown };
  const ok = probe.status === 200 && body.status === "ok";
  return {
    ...base,
    healthy: ok,
    consecutive_failures: ok ? 0 : 1,
    in_flight: typeof body.in_flight === "number" ? body.in_flight : null,
    capacity: typeof body.capacity === "number" ? body.capacity : null,
    last_error: ok
      ? null
      : `health ${probe.status}${probe.status >= 300 && probe.status < 400 ? " (a redirect, not followed)" : typeof body.status === "string" ? ` (${body.status})` : ""}`,
  };
}
