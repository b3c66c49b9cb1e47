import { z } from "zod";
import type { JsonSchema } from "./types.js";

/**
 * Zod schemas as the document's JSON Schema, by zod's own converter (draft 2020-12, which
 * OpenAPI 3.1 speaks): it keeps nullable references, tuple and array lengths, multipleOf,
 * the date-time pattern and strict objects as the schemas say, where @hono/zod-openapi's
 * converter (zod-to-openapi 9.1) drops them and folds a use site's null and default into
 * the shared component (RELIABILITY.md, "Found and fixed"). Schemas are rendered as the
 * API reads them ("input"): fields with defaults are optional, so one component describes
 * a request and the response that echoes it.
 */
const COMPONENT_PREFIX = "#/components/schemas/";
const JSON_SCHEMA_OPTIONS = { io: "input", target: "draft-2020-12", unrepresentable: "any" } as const;

/** A zod schema as JSON Schema whose named parts (a meta `id`) point at the document's components. */
export function schemaOf(schema: z.ZodType): JsonSchema {
  const id = z.globalRegistry.get(schema)?.id;
  if (id) return componentRef(id);
  const { $defs: _defs, $schema: _schema, ...rest } = z.toJSONSchema(schema, JSON_SCHEMA_OPTIONS);
  return relink(rest) as JsonSchema;
}

/** Rewrites zod's local `#/$defs/X` references to the shared components. */
function relink(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(relink);
  if (!node || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => [
      k,
      k === "$ref" && typeof v === "string" ? v.replace(/^#\/\$defs\//, COMPONENT_PREFIX) : relink(v),
    ]),
  );
}

/** Every schema with a meta id, as components (the document keeps those its operations reach). */
function registeredComponents(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(z.globalRegistry, { ...JSON_SCHEMA_OPTIONS, uri: (id) => COMPONENT_PREFIX + id });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, s]) => {
      const { $schema: _schema, $id: _id, ...rest } = s;
      return [id, rest as JsonSchema];
    }),
  );
}

/** The components `root` reaches through `$ref`, transitively, by name; `extra` are looked up first. */
export function componentsReachedFrom(root: unknown, extra: Record<string, JsonSchema> = {}): Record<string, JsonSchema> {
  const known = { ...registeredComponents(), ...extra };
  const seen = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== "object") return;
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string" && v.startsWith(COMPONENT_PREFIX)) {
        const id = v.slice(COMPONENT_PREFIX.length);
        if (!seen.has(id)) {
          seen.add(id);
          visit(known[id]);
        }
      } else visit(v);
    }
  };
  visit(root);
  return Object.fromEntries([...seen].sort().map((id) => [id, known[id]!]));
}

/** A reference to a component of the document by name. */
export const componentRef = (id: string): JsonSchema => ({ $ref: COMPONENT_PREFIX + id });
