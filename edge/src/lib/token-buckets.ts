export interface BucketPolicy {
  name: string;
  capacity: number;
  windowSeconds: number;
}

export interface BucketState {
  name: string;
  capacity: number;
  windowSeconds: number;
  remaining: number;
  resetSeconds: number;
}

export interface Admission {
  allowed: boolean;
  buckets: BucketState[];
  retryAfterSeconds: number;
}

/**
 * Exact token buckets, one per policy name, kept in memory: a storage write per
 * request would double the cost of every call, and buckets that are lost (the object
 * holding them was evicted) simply start full again.
 */
export class TokenBuckets {
  private readonly levels = new Map<string, { tokens: number; updatedMs: number }>();

  /** Takes one token from every bucket, or none if any is empty. */
  admit(policies: BucketPolicy[], nowMs: number): Admission {
    const levels = policies.map((p) => {
      const b = this.levels.get(p.name);
      const rate = p.capacity / (p.windowSeconds * 1000);
      const tokens = b ? Math.min(p.capacity, b.tokens + (nowMs - b.updatedMs) * rate) : p.capacity;
      return { p, tokens, rate };
    });
    const allowed = levels.every((l) => l.tokens >= 1);
    let retryAfterMs = 0;
    const buckets = levels.map(({ p, tokens, rate }) => {
      const after = allowed ? tokens - 1 : tokens;
      this.levels.set(p.name, { tokens: after, updatedMs: nowMs });
      if (!allowed && tokens < 1) retryAfterMs = Math.max(retryAfterMs, (1 - tokens) / rate);
      return {
        name: p.name,
        capacity: p.capacity,
        windowSeconds: p.windowSeconds,
        remaining: Math.floor(after),
        resetSeconds: Math.ceil((p.capacity - after) / rate / 1000),
      };
    });
    return { allowed, buckets, retryAfterSeconds: Math.ceil(retryAfterMs / 1000) };
  }
}
