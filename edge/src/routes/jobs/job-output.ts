import { createRoute } from "@hono/zod-openapi";
import { isTerminal } from "@ecomid/shared/api";
import { z } from "zod";
import { getConfig } from "../../config/config.js";
import { AppError } from "../../errors.js";
import { downloadUrl } from "../../lib/signed-urls.js";
import { keyRefusals, notFound, problem } from "../../openapi/responses.js";
import type { Router } from "../../openapi/router.js";
import { requiresKey } from "../../openapi/security.js";
import { ownedJobOr404 } from "./owned-job.js";

const jobOutputRoute = createRoute({
  method: "get",
  path: "/{id}/outputs/{index}",
  operationId: "getJobOutput",
  summary: "Redirect to a freshly signed URL of one output",
  ...requiresKey("jobs:read"),
  // Any index: one the job does not have is a 404.
  request: { params: z.object({ id: z.string(), index: z.string() }) },
  responses: { 302: { description: "Location: the signed URL" }, ...keyRefusals, ...notFound("output"), 410: problem("Purged") },
});

export function registerJobOutput(router: Router): void {
  router.openapi(jobOutputRoute, async (c) => {
    const params = c.req.valid("param");
    const { stored } = await ownedJobOr404(c, params.id);
    const index = Number(params.index);
    const output = stored.outputs.find((o) => o.index === index);
    if (stored.core.data_removed) throw new AppError("output_not_available", "the job's outputs were purged at the end of its retention");
    if (!output) {
      const why = isTerminal(stored.core.status) ? `the job has no output ${params.index}` : "the job has not finished";
      throw new AppError("not_found", why);
    }
    const config = getConfig(c.env);
    const { url, expiresAt } = await downloadUrl(c.env, config.publicBaseUrl, config.signingSecret, output.key, config.signedUrlTtlSeconds);
    return new Response(null, {
      status: 302,
      headers: { location: url, "x-url-expires-at": new Date(expiresAt * 1000).toISOString(), "cache-control": "no-store" },
    });
  });
}
