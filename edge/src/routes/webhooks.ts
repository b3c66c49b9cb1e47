import { Hono } from "hono";
import type { StoredJob } from "../jobs/types.js";
import { getDelivery, listDeliveries, presentDelivery } from "../db/webhooks.js";
import type { AppEnv } from "../env.js";
import { AppError } from "../errors.js";
import { JOB_ID_PATTERN } from "../lib/ids.js";
import { authenticate } from "../middleware/auth.js";
import { getOwnerSecrets, rotateOwnerSecret, type OwnerSecrets } from "../webhooks/owners.js";
import { enqueueWebhook } from "../webhooks/enqueue.js";

export const webhookRoutes = new Hono<AppEnv>();

const presentSecret = (s: OwnerSecrets) => ({
  object: "webhook_secret" as const,
  secret: s.current,
  previous_valid_until: s.retiredValidUntil,
});

webhookRoutes.get("/webhook_secret", authenticate("jobs:write"), async (c) => c.json(presentSecret(await getOwnerSecrets(c.env.DB, c.get("auth").ownerId))));

webhookRoutes.post("/webhook_secret/rotate", authenticate("jobs:write"), async (c) =>
  c.json(presentSecret(await rotateOwnerSecret(c.env.DB, c.get("auth").ownerId))),
);

webhookRoutes.get("/jobs/:id/webhook_deliveries", authenticate("jobs:read"), async (c) => {
  // An id that cannot be a job's never reaches (or instantiates) a job object.
  const job = JOB_ID_PATTERN.test(c.req.param("id")) ? ((await c.env.JOBS.get(c.env.JOBS.idFromName(c.req.param("id"))).get()) as StoredJob | null) : null;
  if (!job || job.owner_id !== c.get("auth").ownerId) throw new AppError("not_found", `no job ${c.req.param("id")}`);
  return c.json({ object: "list", data: (await listDeliveries(c.env.DB, job.core.id)).map(presentDelivery) });
});

/** Sends the event again as a new delivery (new webhook-id), whatever became of the old one. */
webhookRoutes.post("/jobs/:id/webhook_deliveries/:delivery/redeliver", authenticate("jobs:write"), async (c) => {
  const owner = c.get("auth").ownerId;
  const d = await getDelivery(c.env.DB, c.req.param("delivery"));
  if (!d || d.owner_id !== owner || d.job_id !== c.req.param("id")) throw new AppError("not_found", `no delivery ${c.req.param("delivery")}`);
  const id = await enqueueWebhook(c.env, { ownerId: owner, jobId: d.job_id, type: d.type, sequence: d.sequence, url: d.url });
  return c.json(presentDelivery((await getDelivery(c.env.DB, id))!), 202);
});
