import { createRoute } from "@hono/zod-openapi";
import { Model } from "@ecomid/shared/api";
import { z } from "zod";
import { getConfig } from "../config/config.js";
import { clientRateLimit } from "../middleware/client-rate-limit.js";
import { json, listOf, publicRefusals } from "../openapi/responses.js";
import { newRouter } from "../openapi/router.js";
import { playgroundPage } from "../playground/page.js";
import { htmlPage } from "./html-page.js";

/** Routes without a key. */
export const metaRoutes = newRouter();

// Limited per client address, whatever the method (a 405 too); /hello stays bare: it is bench:edge's baseline.
for (const path of ["/", "/health", "/v1/models"]) metaRoutes.use(path, clientRateLimit());

const health = createRoute({
  method: "get",
  path: "/health",
  operationId: "health",
  summary: "Liveness",
  responses: { 200: json(z.object({ status: z.literal("ok"), environment: z.string() }), "Healthy"), ...publicRefusals },
});
metaRoutes.openapi(health, (c) => c.json({ status: "ok" as const, environment: getConfig(c.env).environment }, 200));

const listModels = createRoute({
  method: "get",
  path: "/v1/models",
  operationId: "listModels",
  summary: "Models on offer and their parameter limits",
  description:
    "Each model's defaults, limits, capabilities, and the provenance labels its outputs can carry (`provenance`: every mode, c2pa+iptc by default).",
  responses: { 200: json(listOf(Model), "Models"), ...publicRefusals },
});
metaRoutes.openapi(listModels, (c) => c.json({ object: "list" as const, data: getConfig(c.env).models }, 200));

// Pages, not operations of the API: not in the document.
metaRoutes.get("/", () => htmlPage(playgroundPage));
metaRoutes.get("/hello", (c) => c.text("hello"));
