import { createRoute } from "@hono/zod-openapi";
import { Job } from "@ecomid/shared/api";
import { getConfig } from "../../config/config.js";
import { AppError } from "../../errors.js";
import { presentJob } from "../../jobs/present.js";
import type { StoredJob } from "../../jobs/types.js";
import { json, keyRefusals, notFound, problem } from "../../openapi/responses.js";
import type { Router } from "../../openapi/router.js";
import { requiresKey } from "../../openapi/security.js";
import { JobPath, ownedJobOr404 } from "./owned-job.js";

const cancelJobRoute = createRoute({
  method: "post",
  path: "/{id}/cancel",
  operationId: "cancelJob",
  summary: "Cancel a job",
  ...requiresKey("jobs:write"),
  request: { params: JobPath },
  responses: { 200: json(Job, "Canceled"), ...keyRefusals, ...notFound("job"), 409: problem("Already finished") },
});

export function registerCancelJob(router: Router): void {
  router.openapi(cancelJobRoute, async (c) => {
    const { stub } = await ownedJobOr404(c, c.req.valid("param").id);
    const result = await stub.cancel();
    if (!result.ok || !result.stored)
      throw new AppError("job_not_cancelable", `the job is already ${result.stored?.core.status ?? "gone"}`);
    return c.json(await presentJob(result.stored as StoredJob, c.env, getConfig(c.env)), 200);
  });
}
