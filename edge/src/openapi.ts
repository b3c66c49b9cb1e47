import { z } from "zod";
import { GpuPoolList, ApiKey, CreatedApiKey, CreateKeyRequest, CreateUploadRequest, Job, JobEvent, JobList, ListJobsQuery, Model, Problem, Upload, WebhookDelivery, WebhookSecret } from "@ecomid/shared/api";
import type { Config } from "./config/config.js";
import { jobRequestSchemas, type JobRequestSchemas } from "./config/job-request.js";

/**
 * The OpenAPI 3.1 document, built from the same zod schemas that validate requests,
 * so the document and the behaviour cannot drift apart. zod's own JSON Schema output
 * is used (draft 2020-12, which OpenAPI 3.1 speaks): it keeps nullable references,
 * tuple and array lengths and strict objects exactly as the schemas say. Schemas are
 * rendered as the API reads them ("input"): fields with defaults are optional, so the
 * same component describes a request and the response that echoes it.
 */
type JsonSchema = Record<string, unknown>;
type Responses = Record<string, { description: string; content?: Record<string, { schema: JsonSchema }>; links?: Links }>;

/** An OpenAPI link: the operation a response's ids lead to, and where each parameter comes from. */
type Links = Record<string, { operationId: string; parameters: Record<string, string>; description?: string }>;

interface Operation {
  method: "get" | "post" | "delete";
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /** Which key it takes: one with a jobs scope (`true`), or one with the admin scope. */
  secured?: true | "admin";
  params?: string[];
  query?: z.ZodObject;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  /** Per media type: a zod schema, or a JSON Schema already built (the multipart form). */
  body?: Record<string, z.ZodType | { jsonSchema: JsonSchema; encoding?: Record<string, { contentType: string }> }>;
  responses: Responses;
  /** Per status: the operations its answer's ids lead to (stateful tests follow them). */
  links?: Record<string, Links>;
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

/** One Server-Sent Events frame (the stream's item, as OpenAPI 3.2's itemSchema has it): the event's JSON travels in `data`. */
const eventFrame: JsonSchema = {
  type: "object",
  required: ["data"],
  properties: {
    id: { type: "string", description: "the event's sequence: send it back as Last-Event-ID to resume" },
    event: { type: "string", description: "the event's type" },
    retry: { type: "integer" },
    data: { type: "string", contentMediaType: "application/json", contentSchema: schemaOf(JobEvent) },
  },
};

/** Links from a job's id to every operation that takes it. */
const JOB_ID = "$response.body#/id";
const jobLinks: Links = {
  GetJob: { operationId: "getJob", parameters: { id: JOB_ID } },
  CancelJob: { operationId: "cancelJob", parameters: { id: JOB_ID } },
  DeleteJob: { operationId: "deleteJob", parameters: { id: JOB_ID } },
  JobEvents: { operationId: "getJobEvents", parameters: { id: JOB_ID } },
  WebhookDeliveries: { operationId: "listWebhookDeliveries", parameters: { id: JOB_ID } },
};

/**
 * The multipart form as documented: the job JSON (first) and one image part, `face`,
 * which the JSON names. The API takes any part names the JSON names, but a JSON Schema
 * cannot tie a part to the name inside another part, so the document states one name.
 */
function jobForm(request: z.ZodType): { jsonSchema: JsonSchema; encoding: Record<string, { contentType: string }> } {
  return {
    jsonSchema: {
      type: "object",
      properties: {
        request: { ...schemaOf(request), description: "the job, as JSON; its reference images are {\"file\": \"face\"}" },
        face: { type: "string", format: "binary", description: "the reference image (JPEG, PNG or WebP, at most 15 MB)" },
      },
      required: ["request", "face"],
      additionalProperties: false,
    },
    encoding: { request: { contentType: "application/json" }, face: { contentType: "image/png, image/jpeg, image/webp" } },
  };
}

function operations(jobRequests: JobRequestSchemas): Operation[] {
  return [
    {
      method: "get",
      path: "/health",
      operationId: "health",
      summary: "Liveness",
      responses: { 200: json(z.object({ status: z.literal("ok"), environment: z.string() }), "Healthy"), ...publicRoute },
    },
    { method: "get", path: "/v1/models", operationId: "listModels", summary: "Models on offer and their parameter limits", responses: { 200: json(list(Model), "Models"), ...publicRoute } },
    {
      method: "post",
      path: "/v1/uploads",
      operationId: "createUpload",
      summary: "Start a direct upload: returns a signed PUT URL",
      secured: true,
      body: { "application/json": CreateUploadRequest },
      responses: { 201: json(Upload, "Created"), ...withBody },
      links: { 201: { GetUpload: { operationId: "getUpload", parameters: { id: "$response.body#/id" } } } },
    },
    { method: "get", path: "/v1/uploads/{id}", operationId: "getUpload", summary: "An upload", secured: true, params: ["id"], responses: { 200: json(Upload, "The upload"), ...authenticated, ...notFound("upload") } },
    {
      method: "post",
      path: "/v1/jobs",
      operationId: "createJob",
      summary: "Create a generation job",
      description:
        "JSON, or multipart/form-data with the same JSON in a first part named `request` and, after it, the image files it names as `{\"file\": \"<part name>\"}` (any other part is refused). Send an `Idempotency-Key` to retry safely.",
      secured: true,
      headers: { "idempotency-key": { description: "1 to 255 printable ASCII characters; kept 24 h per key", schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x21-\\x7e]+$" } } },
      body: { "application/json": jobRequests.json, "multipart/form-data": jobForm(jobRequests.documentedForm) },
      responses: {
        201: json(Job, "Created (already succeeded when served from the result cache)"),
        ...withBody,
        404: problem("A referenced upload does not exist (or is not yours)"),
        409: problem("The same Idempotency-Key is still being processed, or a referenced upload is not complete"),
        410: problem("A referenced upload has expired"),
      },
      links: { 201: jobLinks },
    },
    {
      method: "get",
      path: "/v1/jobs",
      operationId: "listJobs",
      summary: "List jobs",
      secured: true,
      query: ListJobsQuery,
      responses: { 200: json(JobList, "A page of jobs"), ...authenticated, 422: problem("A bad query parameter") },
      links: {
        200: {
          FirstJob: { operationId: "getJob", parameters: { id: "$response.body#/data/0/id" } },
          // A job's outputs exist once it has succeeded: a listing (of succeeded jobs) leads to them, a creation does not.
          FirstJobOutput: { operationId: "getJobOutput", parameters: { id: "$response.body#/data/0/id", index: "0" } },
        },
      },
    },
    { method: "get", path: "/v1/jobs/{id}", operationId: "getJob", summary: "A job", secured: true, params: ["id"], responses: { 200: json(Job, "The job"), ...authenticated, ...notFound("job") } },
    {
      method: "post",
      path: "/v1/jobs/{id}/cancel",
      operationId: "cancelJob",
      summary: "Cancel a job",
      secured: true,
      params: ["id"],
      responses: { 200: json(Job, "Canceled"), ...authenticated, ...notFound("job"), 409: problem("Already finished") },
    },
    {
      method: "delete",
      path: "/v1/jobs/{id}",
      operationId: "deleteJob",
      summary: "Delete a job and purge its inputs and outputs",
      secured: true,
      params: ["id"],
      responses: { 204: { description: "Deleted" }, ...authenticated, ...notFound("job") },
    },
    {
      method: "get",
      path: "/v1/jobs/{id}/events",
      operationId: "getJobEvents",
      summary: "Server-Sent Events of the job; resumes after Last-Event-ID",
      secured: true,
      params: ["id"],
      headers: { "last-event-id": { description: "the last sequence number received", schema: { type: "string" } } },
      responses: {
        200: { description: "An event stream: one frame per JobEvent, its JSON in `data`", content: { "text/event-stream": { schema: eventFrame } } },
        ...authenticated,
        ...notFound("job"),
      },
    },
    {
      method: "get",
      path: "/v1/jobs/{id}/outputs/{index}",
      operationId: "getJobOutput",
      summary: "Redirect to a freshly signed URL of one output",
      secured: true,
      params: ["id", "index"],
      responses: { 302: { description: "Location: the signed URL" }, ...authenticated, ...notFound("output"), 410: problem("Purged") },
    },
    {
      method: "get",
      path: "/v1/jobs/{id}/webhook_deliveries",
      operationId: "listWebhookDeliveries",
      summary: "The job's webhook delivery log",
      secured: true,
      params: ["id"],
      responses: { 200: json(list(WebhookDelivery), "Deliveries"), ...authenticated, ...notFound("job") },
      links: {
        200: { RedeliverFirst: { operationId: "redeliverWebhook", parameters: { id: "$response.body#/data/0/job_id", delivery: "$response.body#/data/0/id" } } },
      },
    },
    {
      method: "post",
      path: "/v1/jobs/{id}/webhook_deliveries/{delivery}/redeliver",
      operationId: "redeliverWebhook",
      summary: "Send a webhook event again",
      secured: true,
      params: ["id", "delivery"],
      responses: { 202: json(WebhookDelivery, "Queued"), ...authenticated, ...notFound("delivery") },
    },
    { method: "get", path: "/v1/webhook_secret", operationId: "getWebhookSecret", summary: "Your webhook signing secret", secured: true, responses: { 200: json(WebhookSecret, "Secret"), ...authenticated } },
    {
      method: "post",
      path: "/v1/webhook_secret/rotate",
      operationId: "rotateWebhookSecret",
      summary: "Rotate it; the old one signs too for 24 h",
      secured: true,
      responses: { 200: json(WebhookSecret, "Secret"), ...authenticated },
    },
    {
      method: "post",
      path: "/v1/admin/keys",
      operationId: "createKey",
      summary: "Create an API key (admin)",
      secured: "admin",
      body: { "application/json": CreateKeyRequest },
      responses: { 201: json(CreatedApiKey, "The key, shown once"), ...withBody },
      links: { 201: { RevokeKey: { operationId: "revokeKey", parameters: { id: "$response.body#/id" } } } },
    },
    {
      method: "get",
      path: "/v1/admin/keys",
      operationId: "listKeys",
      summary: "List API keys (admin)",
      secured: "admin",
      query: z.object({ owner_id: z.string().max(64).optional() }),
      responses: { 200: json(list(ApiKey), "Keys"), ...authenticated, 422: problem("A bad query parameter") },
    },
    {
      method: "post",
      path: "/v1/admin/keys/{id}/revoke",
      operationId: "revokeKey",
      summary: "Revoke an API key (admin)",
      secured: "admin",
      params: ["id"],
      responses: { 200: json(ApiKey, "Revoked"), ...authenticated, ...notFound("key") },
    },
    {
      method: "get",
      path: "/v1/admin/pools",
      operationId: "listPools",
      summary: "GPU pools as dispatch sees them: healthy, taken out, or not yet probed (admin)",
      secured: "admin",
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

function mediaType(body: NonNullable<Operation["body"]>[string]): JsonSchema {
  if (body instanceof z.ZodType) return { schema: schemaOf(body) };
  return { schema: body.jsonSchema, ...(body.encoding ? { encoding: body.encoding } : {}) };
}

function pathItem(op: Operation): JsonSchema {
  const parameters = parametersOf(op);
  return {
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    operationId: op.operationId,
    ...(op.secured ? { security: [{ [op.secured === "admin" ? "adminAuth" : "bearerAuth"]: [] }] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(op.body ? { requestBody: { required: true, content: Object.fromEntries(Object.entries(op.body).map(([type, b]) => [type, mediaType(b)])) } } : {}),
    responses: Object.fromEntries(Object.entries(op.responses).map(([status, r]) => [status, op.links?.[status] ? { ...r, links: op.links[status] } : r])),
  };
}

function buildDocument(config: Config): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of operations(jobRequestSchemas(config))) (paths[op.path] ??= {})[op.method] = pathItem(op);
  return {
    openapi: "3.1.0",
    info: { title: "EcomID API", version: "1.0.0", description: "Identity-preserving portraits from one reference face photo and a prompt." },
    paths,
    components: {
      schemas: referencedComponents(paths, allComponents()),
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", description: "an API key (ek_live_... or ek_test_...) with the scope the operation needs: jobs:read or jobs:write" },
        adminAuth: { type: "http", scheme: "bearer", description: "an API key with the admin scope (an operator's, not a customer's)" },
      },
    },
  };
}

const cache = new WeakMap<Config, JsonSchema>();

/** The document of this deployment: its models on offer shape the job request (see config/job-request.ts). */
export function openApiDocument(config: Config): object {
  let doc = cache.get(config);
  if (!doc) cache.set(config, (doc = buildDocument(config)));
  return { ...doc, servers: [{ url: config.publicBaseUrl }] };
}
