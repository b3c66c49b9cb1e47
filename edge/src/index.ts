import type { AppBindings } from "./env.js";
import { createApp } from "./app.js";
import { consumeQueue } from "./queues/consumers.js";
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
    await consumeQueue(batch, env);
  },
  async scheduled(_controller, env) {
    await purgeExpiredUploads(env);
    await sweepReleasedBlobs(env);
    await requeueStalledDeliveries(env);
  },
} satisfies ExportedHandler<AppBindings>;
