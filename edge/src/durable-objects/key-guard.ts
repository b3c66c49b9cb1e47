import { DurableObject } from "cloudflare:workers";
import type { AppBindings } from "../env.js";
import { TokenBuckets, type Admission, type BucketPolicy } from "../lib/token-buckets.js";

export type { BucketPolicy, BucketState } from "../lib/token-buckets.js";

export type AdmitResult = { revoked: true } | ({ revoked: false } & Admission);

export type IdempotencyBegin =
  { state: "new" } | { state: "in_flight" } | { state: "mismatch" } | { state: "replay"; response: StoredResponse };

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One per API key: exact token buckets, the jobs-in-flight cap, idempotency records
 * and the revoked flag. A Durable Object is single-threaded, so every check-and-update
 * here is atomic without locks.
 */
export class KeyGuard extends DurableObject<AppBindings> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: AppBindings) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS in_flight (job_id TEXT PRIMARY KEY, since_ms INTEGER NOT NULL)`);
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, state TEXT NOT NULL, response TEXT, expires_ms INTEGER NOT NULL)`,
    );
    this.sql.exec(`CREATE TABLE IF NOT EXISTS flags (name TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  }

  private readonly buckets = new TokenBuckets();
  private revoked: boolean | null = null;

  /** Takes one token from every bucket, or none if any is empty. */
  admit(policies: BucketPolicy[], nowMs = Date.now()): AdmitResult {
    if (this.isRevoked()) return { revoked: true };
    return { revoked: false, ...this.buckets.admit(policies, nowMs) };
  }

  /** Reserves a jobs-in-flight slot; idempotent per job id. */
  reserveSlot(jobId: string, max: number): { ok: boolean; inFlight: number } {
    const exists = this.sql.exec(`SELECT 1 FROM in_flight WHERE job_id = ?`, jobId).toArray().length > 0;
    const inFlight = this.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM in_flight`).one().n;
    if (exists) return { ok: true, inFlight };
    if (inFlight >= max) return { ok: false, inFlight };
    this.sql.exec(`INSERT INTO in_flight (job_id, since_ms) VALUES (?, ?)`, jobId, Date.now());
    return { ok: true, inFlight: inFlight + 1 };
  }

  releaseSlot(jobId: string): void {
    this.sql.exec(`DELETE FROM in_flight WHERE job_id = ?`, jobId);
  }

  beginIdempotent(key: string, fingerprint: string, ttlMs: number, nowMs = Date.now()): IdempotencyBegin {
    this.sql.exec(`DELETE FROM idempotency WHERE expires_ms < ?`, nowMs);
    const row = this.sql
      .exec<{ fingerprint: string; state: string; response: string | null }>(
        `SELECT fingerprint, state, response FROM idempotency WHERE key = ?`,
        key,
      )
      .toArray()[0];
    if (!row) {
      this.sql.exec(
        `INSERT INTO idempotency (key, fingerprint, state, expires_ms) VALUES (?, ?, 'in_flight', ?)`,
        key,
        fingerprint,
        nowMs + ttlMs,
      );
      return { state: "new" };
    }
    if (row.fingerprint !== fingerprint) return { state: "mismatch" };
    if (row.state === "in_flight" || !row.response) return { state: "in_flight" };
    return { state: "replay", response: JSON.parse(row.response) as StoredResponse };
  }

  completeIdempotent(key: string, response: StoredResponse): void {
    this.sql.exec(`UPDATE idempotency SET state = 'done', response = ? WHERE key = ?`, JSON.stringify(response), key);
  }

  /** A request that failed before creating anything frees its key for a retry. */
  abandonIdempotent(key: string): void {
    this.sql.exec(`DELETE FROM idempotency WHERE key = ? AND state = 'in_flight'`, key);
  }

  revoke(): void {
    this.sql.exec(`INSERT OR REPLACE INTO flags (name, value) VALUES ('revoked', '1')`);
    this.revoked = true;
  }

  private isRevoked(): boolean {
    this.revoked ??= this.sql.exec(`SELECT 1 FROM flags WHERE name = 'revoked'`).toArray().length > 0;
    return this.revoked;
  }
}
