import type { StoredJob } from "../jobs/types.js";

/** The listing row of a job (written only through the index writer, which batches them). */
export function upsertJobRowStatement(db: D1Database, stored: StoredJob): D1PreparedStatement {
  const c = stored.core;
  return db
    .prepare(
      `INSERT INTO jobs (id, owner_id, model, status, created_at, updated_at, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
       ON CONFLICT(id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, body = excluded.body`,
    )
    .bind(c.id, stored.owner_id, c.model, c.status, c.created_at, c.updated_at, JSON.stringify(stored));
}

export function deleteJobRowStatements(db: D1Database, jobId: string): D1PreparedStatement[] {
  return [
    db.prepare(`DELETE FROM jobs WHERE id = ?`).bind(jobId),
    db.prepare(`DELETE FROM webhook_deliveries WHERE job_id = ?`).bind(jobId),
  ];
}

export interface ListFilter {
  ownerId: string;
  status?: string;
  model?: string;
  updatedAfter?: string;
  createdAfter?: string;
  cursor?: { at: string; id: string };
  limit: number;
}

/**
 * Newest first by creation; with `updatedAfter`, oldest change first, so a client
 * that reconciles missed webhooks can page forward through every change.
 */
export async function listJobRows(db: D1Database, f: ListFilter): Promise<StoredJob[]> {
  const byUpdate = f.updatedAfter !== undefined;
  const where = ["owner_id = ?"];
  const args: unknown[] = [f.ownerId];
  if (f.status) {
    where.push("status = ?");
    args.push(f.status);
  }
  if (f.model) {
    where.push("model = ?");
    args.push(f.model);
  }
  if (f.createdAfter) {
    where.push("created_at > ?");
    args.push(f.createdAfter);
  }
  if (byUpdate) {
    where.push("updated_at > ?");
    args.push(f.updatedAfter);
  }
  if (f.cursor) {
    where.push(byUpdate ? "(updated_at, id) > (?, ?)" : "(created_at, id) < (?, ?)");
    args.push(f.cursor.at, f.cursor.id);
  }
  const order = byUpdate ? "updated_at ASC, id ASC" : "created_at DESC, id DESC";
  const { results } = await db
    .prepare(`SELECT body FROM jobs WHERE ${where.join(" AND ")} ORDER BY ${order} LIMIT ?`)
    .bind(...args, f.limit + 1)
    .all<{ body: string }>();
  return results.map((r) => JSON.parse(r.body) as StoredJob);
}
