import type { z } from "zod";
import { schemaOf } from "./json-schema.js";

/**
 * A query's fields as documented parameters, rendered by zod's converter (the library's
 * drops the date-time pattern). Handlers validate the query themselves: they read the
 * first of repeated keys (c.req.query()), where the library's validator would see a list.
 */
export function queryParameters(query: z.ZodObject) {
  return Object.entries(query.shape).map(([name, field]) => ({
    name,
    in: "query" as const,
    required: !field.safeParse(undefined).success,
    schema: schemaOf(field),
    ...(field.description ? { description: field.description } : {}),
  }));
}

/** An optional request header, documented; the route's code reads and checks it. */
export const headerParameter = (name: string, description: string, schema: z.ZodType) => ({
  name,
  in: "header" as const,
  required: false,
  description,
  schema: schemaOf(schema),
});
