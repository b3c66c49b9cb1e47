import { createRoute } from "@hono/zod-openapi";
import { Job } from "@ecomid/shared/api";
import { getConfig } from "../../config/config.js";
import { presentJob } from "../../jobs/present.js";
import { json, keyRefusals, notFound } from "../../openapi/responses.js";
import type { Router } from "../../openapi/router.js";
import { requiresKey } from "../../openapi/security.js";
import { JobPath, ownedJobOr404 } from "./owned-job.js";

const getJobRoute = createRoute({
  method: "get",
  path: "/{id}",
  operationId: "getJob",
  summary: "A job",
  ...requiresKey("jobs:read"),
  request: { params: JobPath },
  responses: { 200: json(Job, "The job"), ...keyRefusals, ...notFound("job") },
});

export function registerGetJob(router: Router): void {
  router.openapi(getJobRoute, async (c) => {
    const { stored } = await ownedJobOr404(c, c.req.valid("param").id);
    return c.json(await presentJob(stored, c.env, getConfig(c.env)), 200);
  });
}
