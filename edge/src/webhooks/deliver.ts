import { getConfig } from "../config/config.js";
import { getDelivery, recordAttempt } from "../db/webhooks.js";
import type { AppBindings } from "../env.js";
import { presentJob } from "../jobs/present.js";
import type { StoredJob } from "../jobs/types.js";
import { guardedFetch, outboundPolicy } from "../lib/ssrf.js";
import { signWebhook } from "../lib/standard-webhooks.js";
import { getOwnerSecrets } from "./owners.js";
import { nextRetryDelaySeconds } from "./schedule.js";

export type DeliveryOutcome = { kind: "done" } | { kind: "retry"; delaySeconds: number };

/**
 * One delivery attempt. The body carries the job as it is now, with freshly signed
 * output URLs; `data.sequence` orders events per job. 2xx succeeds; 410 Gone stops
 * retrying; anything else (3xx included: redirects are not followed) is retried.
 */
export async function attemptDelivery(env: AppBindings, deliveryId: string): Promise<DeliveryOutcome> {
  const d = await getDelivery(env.DB, deliveryId);
  if (!d || d.status !== "pending") return { kind: "done" };
  const config = getConfig(env);
  // The job object, not its D1 copy, so the payload is never behind the event it reports.
  const stored = (await env.JOBS.get(env.JOBS.idFromName(d.job_id)).get()) as StoredJob | null;
  if (!stored || stored.owner_id !== d.owner_id) {
    await recordAttempt(env.DB, d.id, {
      status: "failed",
      code: null,
      error: "the job was deleted",
      nextAttemptAt: null,
      deliveredAt: null,
    });
    return { kind: "done" };
  }
  const timestamp = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    type: d.type,
    timestamp: new Date(timestamp * 1000).toISOString(),
    api_version: "v1",
    data: { sequence: d.sequence, job: await presentJob(stored, env, config) },
  });
  const secrets = await getOwnerSecrets(env.DB, d.owner_id);
  const signature = await signWebhook([secrets.current, ...secrets.retired], d.id, timestamp, body);
  let code: number | null = null;
  let error: string | null = null;
  try {
    const { response } = await guardedFetch(d.url, {
      policy: outboundPolicy(config),
      // Only the status matters: a receiver that answers 2xx with a large body has still received it.
      discardBody: true,
      maxBytes: 64 * 1024,
      timeoutMs: 15_000,
      maxRedirects: 0,
      init: {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          "user-agent": "EcomID-Webhooks/1",
          "webhook-id": d.id,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": signature,
        },
      },
    });
    code = response.status;
    if (response.ok) {
      await recordAttempt(env.DB, d.id, {
        status: "delivered",
        code,
        error: null,
        nextAttemptAt: null,
        deliveredAt: new Date().toISOString(),
      });
      return { kind: "done" };
    }
    error = `receiver answered ${code}`;
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  const delay = code === 410 ? null : nextRetryDelaySeconds(d.attempts + 1, Math.random, getConfig(env).webhookRetryDelaysSeconds);
  await recordAttempt(env.DB, d.id, {
    status: delay === null ? "failed" : "pending",
    code,
    error,
    nextAttemptAt: delay === null ? null : new Date(Date.now() + delay * 1000).toISOString(),
    deliveredAt: null,
  });
  return delay === null ? { kind: "done" } : { kind: "retry", delaySeconds: delay };
}
