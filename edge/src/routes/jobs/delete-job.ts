import { createRoute } from "@hono/zod-openapi";
import { keyRefusals, notFound } from "../../openapi/responses.js";
import type { Router } from "../../openapi/router.js";
import { requiresKey } from "../../openapi/security.js";
import { JobPath, ownedJobOr404 } from "./owned-job.js";

const deleteJobRoute = createRoute({
  method: "delete",
  path: "/{id}",
  operationId: "deleteJob",
  summary: "Delete a job and purge its inputs and outputs",
  ...requiresKey("jobs:write"),
  request: { params: JobPath },
  responses: { 204: { description: "Deleted" }, ...keyRefusals, ...notFound("job") },
});

export function registerDeleteJob(router: Router): void {
  router.openapi(deleteJobRoute, async (c) => {
    const { stub } = await ownedJobOr404(c, c.req.valid("param").id);
    await stub.purge();
    return c.body(null, 204);
  });
}
