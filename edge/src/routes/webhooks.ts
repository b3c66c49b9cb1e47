import { createRoute } from "@hono/zod-openapi";
import { WebhookDelivery, WebhookSecret } from "@ecomid/shared/api";
import { z } from "zod";
import { getDelivery, listDeliveries, presentDelivery } from "../db/webhooks.js";
import { AppError } from "../errors.js";
import type { StoredJob } from "../jobs/types.js";
import { JOB_ID_PATTERN } from "../lib/ids.js";
import { json, keyRefusals, listOf, notFound } from "../openapi/responses.js";
import { newRouter } from "../openapi/router.js";
import { requiresKey } from "../openapi/security.js";
import { enqueueWebhook } from "../webhooks/enqueue.js";
import { getOwnerSecrets, rotateOwnerSecret, type OwnerSecrets } from "../webhooks/owners.js";

/** Mounted at /v1: the owner's signing secret, and each job's delivery log. */
export const webhookRoutes = newRouter();

const presentSecret = (s: OwnerSecrets) => ({
  object: "webhook_secret" as const,
  secret: s.current,
  previous_valid_until: s.retiredValidUntil,
});

const getWebhookSecret = createRoute({
  method: "get",
  path: "/webhook_secret",
  operationId: "getWebhookSecret",
  summary: "Your webhook signing secret",
  ...requiresKey("jobs:write"),
  responses: { 200: json(WebhookSecret, "Secret"), ...keyRefusals },
});
webhookRoutes.openapi(getWebhookSecret, async (c) => c.json(presentSecret(await getOwnerSecrets(c.env.DB, c.get("auth").ownerId)), 200));

const rotateWebhookSecret = createRoute({
  method: "post",
  path: "/webhook_secret/rotate",
  operationId: "rotateWebhookSecret",
  summary: "Rotate it; the old one signs too for 24 h",
  ...requiresKey("jobs:write"),
  responses: { 200: json(WebhookSecret, "Secret"), ...keyRefusals },
});
webhookRoutes.openapi(rotateWebhookSecret, async (c) =>
  c.json(presentSecret(await rotateOwnerSecret(c.env.DB, c.get("auth").ownerId)), 200),
);

const listWebhookDeliveries = createRoute({
  method: "get",
  path: "/jobs/{id}/webhook_deliveries",
  operationId: "listWebhookDeliveries",
  summary: "The job's webhook delivery log",
  ...requiresKey("jobs:read"),
  request: { params: z.object({ id: z.string() }) },
  responses: {
    200: json(listOf(WebhookDelivery), "Deliveries", {
      RedeliverFirst: {
        operationId: "redeliverWebhook",
        parameters: { id: "$response.body#/data/0/job_id", delivery: "$response.body#/data/0/id" },
      },
    }),
    ...keyRefusals,
    ...notFound("job"),
  },
});
webhookRoutes.openapi(listWebhookDeliveries, async (c) => {
  const { id } = c.req.valid("param");
  // An id that cannot be a job's never reaches (or instantiates) a job object.
  const job = JOB_ID_PATTERN.test(id) ? ((await c.env.JOBS.get(c.env.JOBS.idFromName(id)).get()) as StoredJob | null) : null;
  if (!job || job.owner_id !== c.get("auth").ownerId) throw new AppError("not_found", `no job ${id}`);
  return c.json({ object: "list" as const, data: (await listDeliveries(c.env.DB, job.core.id)).map(presentDelivery) }, 200);
});

const redeliverWebhook = createRoute({
  method: "post",
  path: "/jobs/{id}/webhook_deliveries/{delivery}/redeliver",
  operationId: "redeliverWebhook",
  summary: "Send a webhook event again",
  ...requiresKey("jobs:write"),
  request: { params: z.object({ id: z.string(), delivery: z.string() }) },
  responses: { 202: json(WebhookDelivery, "Queued"), ...keyRefusals, ...notFound("delivery") },
});
/** Sends the event again as a new delivery (new webhook-id), whatever became of the old one. */
webhookRoutes.openapi(redeliverWebhook, async (c) => {
  const owner = c.get("auth").ownerId;
  const { id, delivery } = c.req.valid("param");
  const d = await getDelivery(c.env.DB, delivery);
  if (!d || d.owner_id !== owner || d.job_id !== id) throw new AppError("not_found", `no delivery ${delivery}`);
  const queued = await enqueueWebhook(c.env, { ownerId: owner, jobId: d.job_id, type: d.type, sequence: d.sequence, url: d.url });
  return c.json(presentDelivery((await getDelivery(c.env.DB, queued))!), 202);
});
