import { DurableObject } from "cloudflare:workers";
import type { AppBindings } from "../env.js";
import { log } from "../lib/log.js";
import { fetchPool } from "../pools/pool-fetch.js";
import { afterDispatch, fromProbe, rankPools, type DispatchOutcome, type PoolHealth } from "../pools/pool-ranking.js";

const MONITOR_NAME = "gpu-pools";
/** How long a pool's health is trusted before the next dispatch probes it again (a failed pool is retried as often). */
export const HEALTH_TTL_MS = 10_000;
const PROBE_TIMEOUT_MS = 2_000;
/** Bounds the memory of the wake-up list; jobs beyond it still get their backoff retries. */
const MAX_WAITING_PER_MODEL = 10_000;

/**
 * The edge's view of its GPU-function pools, shared by every isolate. Health is
 * probed lazily: a dispatch that finds a pool's health older than the TTL probes it
 * (one probe per pool at a time), so idle environments send nothing and a pool that
 * fails is left alone until a probe passes. Dispatch outcomes update it in between.
 * Memory only: after an eviction the next dispatch simply probes again.
 */
export class PoolMonitor extends DurableObject<AppBindings> {
  private readonly pools = new Map<string, PoolHealth>();
  private readonly probes = new Map<string, Promise<PoolHealth>>();
  /** Per model, jobs that found every pool busy, oldest first (soft state: their backoff is the fallback). */
  private readonly waiting = new Map<string, Map<string, number>>();

  /** The pools to try for one dispatch, best first; empty when none of `urls` is healthy. */
  async choose(urls: string[]): Promise<string[]> {
    const states = await Promise.all(urls.map((url) => this.current(url)));
    return rankPools(states);
  }

  report(url: string, outcome: DispatchOutcome, error: string | null = null): void {
    const known = this.pools.get(url);
    if (known) this.pools.set(url, afterDispatch(known, outcome, Date.now(), error));
  }

  /** A job found every pool of its model busy: it is woken when a GPU slot frees, oldest first. */
  wait(model: string, jobId: string, attempt: number): void {
    let queue = this.waiting.get(model);
    if (!queue) this.waiting.set(model, (queue = new Map()));
    if (queue.size < MAX_WAITING_PER_MODEL || queue.has(jobId)) queue.set(jobId, attempt);
  }

  /** The job reached a GPU: nothing to wake. */
  dispatched(model: string, jobId: string): void {
    this.waiting.get(model)?.delete(jobId);
  }

  /** A job of `model` left its GPU: the longest-waiting job of the model is sent to dispatch now. */
  async capacityFreed(model: string): Promise<string | null> {
    const queue = this.waiting.get(model);
    const next = queue?.entries().next();
    if (!queue || !next || next.done) return null;
    const [jobId, attempt] = next.value;
    queue.delete(jobId);
    await this.env.DISPATCH_QUEUE.send({ job_id: jobId, attempt });
    return jobId;
  }

  snapshot(): PoolHealth[] {
    return [...this.pools.values()];
  }

  private current(url: string): Promise<PoolHealth> {
    const known = this.pools.get(url);
    if (known && Date.now() - known.checked_at_ms < HEALTH_TTL_MS) return Promise.resolve(known);
    let probe = this.probes.get(url);
    if (!probe) {
      probe = this.probe(url).finally(() => this.probes.delete(url));
      this.probes.set(url, probe);
    }
    return probe;
  }

  private async probe(url: string): Promise<PoolHealth> {
    let health: PoolHealth;
    try {
      const response = await fetchPool(`${url}/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      const body = await response.json().catch(() => null);
      health = fromProbe(url, Date.now(), { status: response.status, body });
    } catch (e) {
      health = fromProbe(url, Date.now(), { error: e instanceof Error ? e.message : String(e) });
    }
    const before = this.pools.get(url);
    if (before && before.healthy !== health.healthy) {
      log(health.healthy ? "info" : "warn", health.healthy ? "GPU pool healthy again" : "GPU pool unhealthy; not sending to it", {
        pool: url,
        error: health.last_error,
      });
    }
    this.pools.set(url, health);
    return health;
  }
}

export function poolMonitor(env: AppBindings): DurableObjectStub<PoolMonitor> {
  return env.POOL_MONITOR.get(env.POOL_MONITOR.idFromName(MONITOR_NAME));
}
