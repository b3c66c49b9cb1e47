import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Config } from "../config/config.js";
import type { AppEnv } from "../env.js";
import { deploymentComponents } from "./deployment.js";
import { componentsReachedFrom } from "./json-schema.js";

const INFO = {
  title: "EcomID API",
  version: "1.0.0",
  description: "Identity-preserving portraits from one reference face photo and a prompt.",
};

/**
 * The OpenAPI 3.1 document of `app`, generated from its routes' own definitions (each
 * route file's createRoute), per deployment: its components, and its base URL as server.
 * Built once per config, after every route is mounted.
 */
export function openApiDocumentOf(app: OpenAPIHono<AppEnv>): (config: Config) => object {
  let routes: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  const documents = new WeakMap<Config, object>();
  return (config) => {
    let document = documents.get(config);
    if (!document) {
      routes ??= app.getOpenAPI31Document({ openapi: "3.1.0", info: INFO });
      // The generator's empty `webhooks` and `components.parameters` are left out.
      const { openapi, info, paths, components } = routes;
      const schemas = componentsReachedFrom(paths, deploymentComponents(config));
      document = {
        openapi,
        info,
        paths,
        components: { schemas, securitySchemes: components?.securitySchemes },
        servers: [{ url: config.publicBaseUrl }],
      };
      documents.set(config, document);
    }
    return document;
  };
}
