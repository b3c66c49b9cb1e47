import { Hono } from "hono";
import { getConfig } from "../config/config.js";
import type { AppEnv } from "../env.js";
import { clientRateLimit } from "../middleware/client-rate-limit.js";
import { openApiDocument } from "../openapi.js";
import { docsPage } from "./docs-page.js";
import { playgroundPage } from "../playground/page.js";
import { newNonce, pageContentSecurityPolicy } from "../middleware/security-headers.js";

/** An HTML page whose inline script and style carry a fresh nonce that its CSP names. */
function page(render: (nonce: string) => string): Response {
  const nonce = newNonce();
  return new Response(render(nonce), {
    headers: { "content-type": "text/html; charset=UTF-8", "content-security-policy": pageContentSecurityPolicy(nonce), "cache-control": "no-store" },
  });
}

export const metaRoutes = new Hono<AppEnv>();

// Routes without a key are limited per client address; /hello stays bare: it is bench:edge's baseline.
for (const path of ["/", "/health", "/v1/models", "/v1/openapi.json", "/docs"]) metaRoutes.use(path, clientRateLimit());

metaRoutes.get("/", () => page(playgroundPage));
metaRoutes.get("/health", (c) => c.json({ status: "ok", environment: getConfig(c.env).environment }));
metaRoutes.get("/hello", (c) => c.text("hello"));
metaRoutes.get("/v1/models", (c) => c.json({ object: "list", data: getConfig(c.env).models }));
metaRoutes.get("/v1/openapi.json", (c) => c.json(openApiDocument(getConfig(c.env))));
metaRoutes.get("/docs", (c) => page((nonce) => docsPage(openApiDocument(getConfig(c.env)), nonce)));
