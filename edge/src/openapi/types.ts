import type { RouteConfig } from "@hono/zod-openapi";

/**
 * JSON Schema as zod renders it (json-schema.ts). The library takes such an object as a
 * route's schema and passes it into the document untouched; its own types are a union of
 * OpenAPI 3.0, 3.1 and 3.2 objects, which a plain JSON object meets without picking one.
 */
export type JsonSchema = { [keyword: string]: unknown };

/** The OpenAPI object types of a route definition, named once (the library does not export them). */
export type Responses = RouteConfig["responses"];
export type ResponseObject = Responses[string];
export type LinksObject = NonNullable<Exclude<ResponseObject, { $ref: string }>["links"]>;
