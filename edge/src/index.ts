import type { AppBindings } from "./env.js";
import { createApp } from "./app.js";
import { consumeDispatch, consumeDispatchDeadLetters } from "./queues/dispatch.js";
import { consumeWebhookDeadLetters, consumeWebhooks } from "./queues/webhooks.js";
import { purgeExpiredUploads } from "./jobs/purge-uploads.js";
import { sweepReleasedBlobs } from "./jobs/input-blobs.js";
import { requeueStalledDeliveries } from "./webhooks/requeue-stalled.js";

export { JobObject } from "./durable-objects/job-object.js";
export { KeyGuard } from "./durable-objects/key-guard.js";
export { JobIndexWriter } from "./durable-objects/job-index-writer.js";
export { PoolMonitor } from "./durable-objects/pool-monitor.js";
export { PublicRateLimiter } from "./durable-objects/public-rate-limiter.js";

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    if (batch.queue.startsWith("ecomid-dispatch-dlq")) return consumeDispatchDeadLetters(batch, env);
    if (batch.queue.startsWith("ecomid-dispatch")) return consumeDispatch(batch, env);
    if (batch.queue.startsWith("ecomid-webhooks-dlq")) return consumeWebhookDeadLetters(batch, env);
    if (batch.queue.startsWith("ecomid-webhooks")) return consumeWebhooks(batch, env);
    for (const m of batch.messages) m.ack();
  },
  async scheduled(_controller, env) {
    await purgeExpiredUploads(env);
    await sweepReleasedBlobs(env);
    await requeueStalledDeliveries(env);
  },
} satisfies ExportedHandler<AppBindings>;
