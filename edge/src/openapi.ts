import { z } from "zod";
import { GpuPoolList } from "../../shared/src/api/pools.js";
import {
  ApiKey,
  CreatedApiKey,
  CreateJobRequest,
  CreateKeyRequest,
  CreateUploadRequest,
  Job,
  JobEvent,
  JobList,
  ListJobsQuery,
  Model,
  Problem,
  Upload,
  WebhookDelivery,
  WebhookSecret,
} from "../../shared/src/index.js";

/**
 * The OpenAPI 3.1 document, built from the same zod schemas that validate requests,
 * so the document and the behaviour cannot drift apart. zod's own JSON Schema output
 * is used (draft 2020-12, which OpenAPI 3.1 speaks): it keeps nullable references,
 * tuple and array lengths and strict objects exactly as the schemas say. Schemas are
 * rendered as the API reads them ("input"): fields with defaults are optional, so the
 * same component describes a request and the response that echoes it.
 */
type JsonSchema = Record<string, unknown>;
type Responses = Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;

interface Operation {
  method: "get" | "post" | "delete";
  path: string;
  summary: string;
  description?: string;
  secured?: boolean;
  params?: string[];
  query?: z.ZodObject;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  body?: Record<string, z.ZodType>;
  responses: Responses;
}

const COMPONENT_PREFIX = "#/components/schemas/";
const JSON_SCHEMA_OPTIONS = { io: "input", target: "draft-2020-12", unrepresentable: "any" } as const;

/** A zod schema as JSON Schema whose named parts point at the document's components. */
function schemaOf(schema: z.ZodType): JsonSchema {
  const id = z.globalRegistry.get(schema)?.id;
  if (id) return { $ref: COMPONENT_PREFIX + id };
  const { $defs: _defs, $schema: _schema, ...rest } = z.toJSONSchema(schema, JSON_SCHEMA_OPTIONS) as JsonSchema;
  return relink(rest) as JsonSchema;
}

/** Rewrites zod's local `#/$defs/X` references to the shared components. */
function relink(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(relink);
  if (!node || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => [k, k === "$ref" && typeof v === "string" ? v.replace(/^#\/\$defs\//, COMPONENT_PREFIX) : relink(v)]),
  );
}

/** Every schema with a meta id, as components; later pruned to those the paths reach. */
function allComponents(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(z.globalRegistry, { ...JSON_SCHEMA_OPTIONS, uri: (id) => COMPONENT_PREFIX + id });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, s]) => {
      const { $schema: _schema, $id: _id, ...rest } = s as JsonSchema;
      return [id, rest];
    }),
  );
}

function referencedComponents(root: unknown, components: Record<string, JsonSchema>): Record<string, JsonSchema> {
  const seen = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== "object") return;
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string" && v.startsWith(COMPONENT_PREFIX)) {
        const id = v.slice(COMPONENT_PREFIX.length);
        if (!seen.has(id)) {
          seen.add(id);
          visit(components[id]);
        }
      } else visit(v);
    }
  };
  visit(root);
  return Object.fromEntries([...seen].sort().map((id) => [id, components[id]!]));
}

const problem = (description: string) => ({ description, content: { "application/problem+json": { schema: schemaOf(Problem) } } });
const json = (schema: z.ZodType, description: string) => ({ description, content: { "application/json": { schema: schemaOf(schema) } } });
const list = (item: z.ZodType) => z.object({ object: z.literal("list"), data: z.array(item) });

/** Answers any request can meet: the size gate (any method may send a body), and storage briefly unavailable. */
const anyRequest: Responses = {
  413: problem("The body is larger than any request may be"),
  503: problem("Storage is briefly unavailable and the request did not complete; send it again after Retry-After"),
};
/** Refusals of every authenticated route: the key, its scope, its rate limits. */
const authenticated: Responses = {
  ...anyRequest,
  401: problem("Missing, unknown or revoked API key"),
  403: problem("The key lacks the scope"),
  429: problem("Rate limit or in-flight cap reached; see Retry-After"),
};
/** Refusals of a route that reads a body. */
const withBody: Responses = {
  ...authenticated,
  400: problem("Malformed request: not JSON, broken multipart, or a bad header"),
  415: problem("The body is not sent as the content type this route reads"),
  422: problem("Invalid input; `errors` points at each bad field"),
};
const notFound = (what: string) => ({ 404: problem(`No such ${what} (or not yours)`) });
/** Refusals of the routes that take no key: the size gate and the per-client-address rate limit. */
const publicRoute: Responses = { ...anyRequest, 429: problem("Rate limit per client address reached; see Retry-After") };

function operations(): Operation[] {
  return [
    {
      method: "get",
      path: "/health",
      summary: "Liveness",
      responses: { 200: json(z.object({ status: z.literal("ok"), environment: z.string() }), "Healthy"), ...publicRoute },
    },
    { method: "get", path: "/v1/models", summary: "Models on offer and their parameter limits", responses: { 200: json(list(Model), "Models"), ...publicRoute } },
    {
      method: "post",
      path: "/v1/uploads",
      summary: "Start a direct upload: returns a signed PUT URL",
      secured: true,
      body: { "application/json": CreateUploadRequest },
      responses: { 201: json(Upload, "Created"), ...withBody },
    },
    { method: "get", path: "/v1/uploads/{id}", summary: "An upload", secured: true, params: ["id"], responses: { 200: json(Upload, "The upload"), ...authenticated, ...notFound("upload") } },
    {
      method: "post",
      path: "/v1/jobs",
      summary: "Create a generation job",
      description:
        "JSON, or multipart/form-data with the same JSON in a text part named `request` and image files in other parts referenced as `{\"file\": \"<part name>\"}`. Send an `Idempotency-Key` to retry safely.",
      secured: true,
      headers: { "idempotency-key": { description: "1 to 255 printable ASCII characters; kept 24 h per key", schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x21-\\x7e]+$" } } },
      body: {
        "application/json": CreateJobRequest,
        "multipart/form-data": z.object({ request: z.string().describe("the CreateJobRequest as JSON") }).catchall(z.any()),
      },
      responses: {
        201: json(Job, "Created (already succeeded when served from the result cache)"),
        ...withBody,
        ...notFound("model"),
        409: problem("The same Idempotency-Key is still being processed, or a referenced upload is not complete"),
        410: problem("A referenced upload has expired"),
      },
    },
    {
      method: "get",
      path: "/v1/jobs",
      summary: "List jobs",
      secured: true,
      query: ListJobsQuery,
      responses: { 200: json(JobList, "A page of jobs"), ...authenticated, 400: problem("A cursor this API did not give out"), 422: problem("A bad query parameter") },
    },
    { method: "get", path: "/v1/jobs/{id}", summary: "A job", secured: true, params: ["id"], responses: { 200: json(Job, "The job"), ...authenticated, ...notFound("job") } },
    {
      method: "post",
      path: "/v1/jobs/{id}/cancel",
      summary: "Cancel a job",
      secured: true,
      params: ["id"],
      responses: { 200: json(Job, "Canceled"), ...authenticated, ...notFound("job"), 409: problem("Already finished") },
    },
    {
      method: "delete",
      path: "/v1/jobs/{id}",
      summary: "Delete a job and purge its inputs and outputs",
      secured: true,
      params: ["id"],
      responses: { 204: { description: "Deleted" }, ...authenticated, ...notFound("job") },
    },
    {
      method: "get",
      path: "/v1/jobs/{id}/events",
      summary: "Server-Sent Events of the job; resumes after Last-Event-ID",
      secured: true,
      params: ["id"],
      headers: { "last-event-id": { description: "the last sequence number received", schema: { type: "string" } } },
      responses: {
        200: { description: "An event stream; each `data:` is a JobEvent", content: { "text/event-stream": { schema: schemaOf(JobEvent) } } },
        ...authenticated,
        ...notFound("job"),
      },
    },
    {
      method: "get",
      path: "/v1/jobs/{id}/outputs/{index}",
      summary: "Redirect to a freshly signed URL of one output",
      secured: true,
      params: ["id", "index"],
      responses: { 302: { description: "Location: the signed URL" }, ...authenticated, ...notFound("output"), 410: problem("Purged") },
    },
    {
      method: "get",
      path: "/v1/jobs/{id}/webhook_deliveries",
      summary: "The job's webhook delivery log",
      secured: true,
      params: ["id"],
      responses: { 200: json(list(WebhookDelivery), "Deliveries"), ...authenticated, ...notFound("job") },
    },
    {
      method: "post",
      path: "/v1/jobs/{id}/webhook_deliveries/{delivery}/redeliver",
      summary: "Send a webhook event again",
      secured: true,
      params: ["id", "delivery"],
      responses: { 202: json(WebhookDelivery, "Queued"), ...authenticated, ...notFound("delivery") },
    },
    { method: "get", path: "/v1/webhook_secret", summary: "Your webhook signing secret", secured: true, responses: { 200: json(WebhookSecret, "Secret"), ...authenticated } },
    {
      method: "post",
      path: "/v1/webhook_secret/rotate",
      summary: "Rotate it; the old one signs too for 24 h",
      secured: true,
      responses: { 200: json(WebhookSecret, "Secret"), ...authenticated },
    },
    {
      method: "post",
      path: "/v1/admin/keys",
      summary: "Create an API key (admin)",
      secured: true,
      body: { "application/json": CreateKeyRequest },
      responses: { 201: json(CreatedApiKey, "The key, shown once"), ...withBody },
    },
    {
      method: "get",
      path: "/v1/admin/keys",
      summary: "List API keys (admin)",
      secured: true,
      query: z.object({ owner_id: z.string().max(64).optional() }),
      responses: { 200: json(list(ApiKey), "Keys"), ...authenticated, 422: problem("A bad query parameter") },
    },
    {
      method: "post",
      path: "/v1/admin/keys/{id}/revoke",
      summary: "Revoke an API key (admin)",
      secured: true,
      params: ["id"],
      responses: { 200: json(ApiKey, "Revoked"), ...authenticated, ...notFound("key") },
    },
    {
      method: "get",
      path: "/v1/admin/pools",
      summary: "GPU pools as dispatch sees them: healthy, taken out, or not yet probed (admin)",
      secured: true,
      responses: { 200: json(GpuPoolList, "Pools"), ...authenticated },
    },
  ];
}

function parametersOf(op: Operation): JsonSchema[] {
  const path = (op.params ?? []).map((name) => ({ name, in: "path", required: true, schema: { type: "string" } }));
  const shape = op.query?.shape ?? {};
  const query = Object.entries(shape).map(([name, s]) => {
    const field = s as z.ZodType;
    return { name, in: "query", required: !field.safeParse(undefined).success, schema: schemaOf(field), ...(field.description ? { description: field.description } : {}) };
  });
  const headers = Object.entries(op.headers ?? {}).map(([name, h]) => ({ name, in: "header", required: false, ...h }));
  return [...path, ...query, ...headers];
}

function pathItem(op: Operation): JsonSchema {
  const parameters = parametersOf(op);
  return {
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    ...(op.secured ? { security: [{ bearerAuth: [] }] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(op.body ? { requestBody: { required: true, content: Object.fromEntries(Object.entries(op.body).map(([type, s]) => [type, { schema: schemaOf(s) }])) } } : {}),
    responses: op.responses,
  };
}

let cached: JsonSchema | null = null;

function buildDocument(): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of operations()) (paths[op.path] ??= {})[op.method] = pathItem(op);
  return {
    openapi: "3.1.0",
    info: { title: "EcomID API", version: "1.0.0", description: "Identity-preserving portraits from one reference face photo and a prompt." },
    paths,
    components: {
      schemas: referencedComponents(paths, allComponents()),
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "ek_live_... or ek_test_..." } },
    },
  };
}

export function openApiDocument(serverUrl: string): object {
  cached ??= buildDocument();
  return { ...cached, servers: [{ url: serverUrl }] };
}
