import type { WebhookDelivery } from "@ecomid/shared/api";

export interface DeliveryRow {
  id: string;
  job_id: string;
  owner_id: string;
  type: string;
  sequence: number;
  url: string;
  payload: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
}

export async function insertDelivery(
  db: D1Database,
  d: Omit<DeliveryRow, "attempts" | "last_status_code" | "last_error" | "delivered_at">,
) {
  await db
    .prepare(
      `INSERT OR IGNORE INTO webhook_deliveries (id, job_id, owner_id, type, sequence, url, payload, status, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(d.id, d.job_id, d.owner_id, d.type, d.sequence, d.url, d.payload, d.status, d.next_attempt_at, d.created_at)
    .run();
}

export async function getDelivery(db: D1Database, id: string): Promise<DeliveryRow | null> {
  return db.prepare(`SELECT * FROM webhook_deliveries WHERE id = ?`).bind(id).first<DeliveryRow>();
}

export async function recordAttempt(
  db: D1Database,
  id: string,
  outcome: {
    status: DeliveryRow["status"];
    code: number | null;
    error: string | null;
    nextAttemptAt: string | null;
    deliveredAt: string | null;
  },
) {
  await db
    .prepare(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, status = ?, last_status_code = ?, last_error = ?, next_attempt_at = ?, delivered_at = ? WHERE id = ?`,
    )
    .bind(outcome.status, outcome.code, outcome.error, outcome.nextAttemptAt, outcome.deliveredAt, id)
    .run();
}

export async function listDeliveries(db: D1Database, jobId: string): Promise<DeliveryRow[]> {
  const { results } = await db
    .prepare(`SELECT * FROM webhook_deliveries WHERE job_id = ? ORDER BY sequence, created_at`)
    .bind(jobId)
    .all<DeliveryRow>();
  return results;
}

export function presentDelivery(d: DeliveryRow): WebhookDelivery {
  return {
    id: d.id,
    object: "webhook_delivery",
    job_id: d.job_id,
    type: d.type as WebhookDelivery["type"],
    sequence: d.sequence,
    url: d.url,
    status: d.status,
    attempts: d.attempts,
    last_status_code: d.last_status_code,
    last_error: d.last_error,
    next_attempt_at: d.next_attempt_at,
    created_at: d.created_at,
    delivered_at: d.delivered_at,
  };
}
