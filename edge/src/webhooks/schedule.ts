/**
 * Seconds to wait before each retry of a webhook delivery: 0 s, 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h, 10 h (Svix's schedule), about 27.6 h in all, so a receiver that is
 * down for a day still gets every event. Up to 10% jitter spreads retry storms.
 */
export const WEBHOOK_RETRY_DELAYS_SECONDS = [5, 300, 1800, 7200, 18000, 36000, 36000] as const;

/** Delay before the retry that follows failed attempt number `attemptsMade` (1-based), or null when out of retries. */
export function nextRetryDelaySeconds(
  attemptsMade: number,
  random: () => number = Math.random,
  delays: readonly number[] = WEBHOOK_RETRY_DELAYS_SECONDS,
): number | null {
  const base = delays[attemptsMade - 1];
  if (base === undefined) return null;
  return Math.round(base * (1 + 0.1 * random()));
}
