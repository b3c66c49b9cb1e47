import type { AppBindings } from "../env.js";

/** Past its planned attempt by this much, a pending delivery's queue message was lost (queue delays are exact to seconds). */
export const STALLED_AFTER_MS = 15 * 60 * 1000;

/**
 * Cron: a pending delivery whose attempt is long overdue has lost its queue message
 * (a dropped message, a consumer that died mid-batch). It is queued again and its
 * planned time moved to now, so the next sweep leaves it alone while the new message
 * works. A duplicate send is possible; receivers deduplicate by `webhook-id`.
 */
export async function requeueStalledDeliveries(env: AppBindings, nowMs = Date.now()): Promise<number> {
  const { results } = await env.DB.prepare(
    `SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at < ? ORDER BY next_attempt_at LIMIT 500`,
  )
    .bind(new Date(nowMs - STALLED_AFTER_MS).toISOString())
    .all<{ id: string }>();
  if (!results.length) return 0;
  const now = new Date(nowMs).toISOString();
  await env.DB.batch(results.map((r) => env.DB.prepare(`UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?`).bind(now, r.id)));
  await env.WEBHOOK_QUEUE.sendBatch(results.map((r) => ({ body: { delivery_id: r.id } })));
  return results.length;
}
