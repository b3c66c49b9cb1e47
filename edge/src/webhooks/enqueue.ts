import type { AppBindings } from "../env.js";
import { insertDelivery } from "../db/webhooks.js";
import { newId } from "../lib/ids.js";

/** Records a delivery (the log a client can read) and queues its first attempt. */
export async function enqueueWebhook(
  env: AppBindings,
  e: { ownerId: string; jobId: string; type: string; sequence: number; url: string },
): Promise<string> {
  const id = newId("evt");
  const now = new Date().toISOString();
  await insertDelivery(env.DB, {
    id,
    job_id: e.jobId,
    owner_id: e.ownerId,
    type: e.type,
    sequence: e.sequence,
    url: e.url,
    payload: "",
    status: "pending",
    next_attempt_at: now,
    created_at: now,
  });
  await env.WEBHOOK_QUEUE.send({ delivery_id: id });
  return id;
}
