import { Hono } from "hono";
import { getConfig } from "../config/config.js";
import type { AppEnv } from "../env.js";
import { openApiDocument } from "../openapi.js";
import { docsPage } from "./docs-page.js";
import { playgroundPage } from "../playground/page.js";

export const metaRoutes = new Hono<AppEnv>();

metaRoutes.get("/", (c) => c.html(playgroundPage()));
metaRoutes.get("/health", (c) => c.json({ status: "ok", environment: getConfig(c.env).environment }));
metaRoutes.get("/hello", (c) => c.text("hello"));
metaRoutes.get("/v1/models", (c) => c.json({ object: "list", data: getConfig(c.env).models }));
metaRoutes.get("/v1/openapi.json", (c) => c.json(openApiDocument(getConfig(c.env).publicBaseUrl)));
metaRoutes.get("/docs", (c) => c.html(docsPage(openApiDocument(getConfig(c.env).publicBaseUrl))));
