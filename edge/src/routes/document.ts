import type { OpenAPIHono } from "@hono/zod-openapi";
import { Hono } from "hono";
import { getConfig } from "../config/config.js";
import type { AppEnv } from "../env.js";
import { clientRateLimit } from "../middleware/client-rate-limit.js";
import { openApiDocumentOf } from "../openapi/document.js";
import { docsPage } from "./docs-page.js";
import { htmlPage } from "./html-page.js";

/** The OpenAPI document of `app` and the docs page rendered from it; neither is an operation in it. */
export function documentRoutes(app: OpenAPIHono<AppEnv>): Hono<AppEnv> {
  const documentFor = openApiDocumentOf(app);
  const routes = new Hono<AppEnv>();
  for (const path of ["/v1/openapi.json", "/docs"]) routes.use(path, clientRateLimit());
  routes.get("/v1/openapi.json", (c) => c.json(documentFor(getConfig(c.env))));
  routes.get("/docs", (c) => htmlPage((nonce) => docsPage(documentFor(getConfig(c.env)), nonce)));
  return routes;
}
