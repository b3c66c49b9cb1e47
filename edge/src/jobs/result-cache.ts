import type { AppBindings } from "../env.js";

/**
 * The result cache: same owner, same input bytes, same parameters and seed, same
 * bundle version -> the earlier job's outputs. Scoped per owner so one customer can
 * never learn what another generated.
 */
const CACHE_TTL_SECONDS = 30 * 24 * 3600;

export async function cacheResult(env: AppBindings, cacheKey: string, jobId: string): Promise<void> {
  await env.CACHE.put(`result:${cacheKey}`, jobId, { expirationTtl: CACHE_TTL_SECONDS });
}

export async function lookupCachedJob(env: AppBindings, cacheKey: string): Promise<string | null> {
  return env.CACHE.get(`result:${cacheKey}`);
}
