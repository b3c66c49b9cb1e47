import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
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
 * so the document and the behaviour cannot drift apart.
 */
const problem = (description: string) => ({ description, content: { "application/problem+json": { schema: Problem } } });
const json = (schema: z.ZodType, description: string) => ({ description, content: { "application/json": { schema } } });
const errors = {
  400: problem("Malformed request"),
  401: problem("Missing, unknown or revoked API key"),
  403: problem("The key lacks the scope"),
  422: problem("Invalid input; `errors` points at each bad field"),
  429: problem("Rate limit or in-flight cap reached; see Retry-After"),
};
const idParam = z.object({ id: z.string() });
const bearer = [{ bearerAuth: [] }];

function routes(): RouteConfig[] {
  return [
    { method: "get", path: "/health", summary: "Liveness", responses: { 200: json(z.object({ status: z.literal("ok") }), "Healthy") } },
    { method: "get", path: "/v1/models", summary: "Models on offer and their parameter limits", responses: { 200: json(z.object({ object: z.literal("list"), data: z.array(Model) }), "Models") } },
    {
      method: "post",
      path: "/v1/uploads",
      summary: "Start a direct upload: returns a signed PUT URL",
      security: bearer,
      request: { body: { content: { "application/json": { schema: CreateUploadRequest } } } },
      responses: { 201: json(Upload, "Created"), ...errors },
    },
    { method: "get", path: "/v1/uploads/{id}", summary: "An upload", security: bearer, request: { params: idParam }, responses: { 200: json(Upload, "The upload"), 404: problem("Not found") } },
    {
      method: "post",
      path: "/v1/jobs",
      summary: "Create a generation job",
      description:
        "JSON, or multipart/form-data with the same JSON in a text part named `request` and image files in other parts referenced as `{\"file\": \"<part name>\"}`. Send an `Idempotency-Key` to retry safely.",
      security: bearer,
      request: {
        headers: z.object({ "idempotency-key": z.string().max(255).optional() }),
        body: {
          content: {
            "application/json": { schema: CreateJobRequest },
            "multipart/form-data": { schema: z.object({ request: z.string().describe("the CreateJobRequest as JSON") }).catchall(z.any()) },
          },
        },
      },
      responses: {
        201: json(Job, "Created (already succeeded when served from the result cache)"),
        409: problem("The same Idempotency-Key is still being processed"),
        ...errors,
      },
    },
    { method: "get", path: "/v1/jobs", summary: "List jobs", security: bearer, request: { query: ListJobsQuery }, responses: { 200: json(JobList, "A page of jobs"), ...errors } },
    { method: "get", path: "/v1/jobs/{id}", summary: "A job", security: bearer, request: { params: idParam }, responses: { 200: json(Job, "The job"), 404: problem("Not found") } },
    { method: "post", path: "/v1/jobs/{id}/cancel", summary: "Cancel a job", security: bearer, request: { params: idParam }, responses: { 200: json(Job, "Canceled"), 409: problem("Already finished") } },
    { method: "delete", path: "/v1/jobs/{id}", summary: "Delete a job and purge its inputs and outputs", security: bearer, request: { params: idParam }, responses: { 204: { description: "Deleted" }, 404: problem("Not found") } },
    {
      method: "get",
      path: "/v1/jobs/{id}/events",
      summary: "Server-Sent Events of the job; resumes after Last-Event-ID",
      security: bearer,
      request: { params: idParam, headers: z.object({ "last-event-id": z.string().optional() }) },
      responses: { 200: { description: "An event stream; each `data:` is a JobEvent", content: { "text/event-stream": { schema: JobEvent } } }, 404: problem("Not found") },
    },
    {
      method: "get",
      path: "/v1/jobs/{id}/outputs/{index}",
      summary: "Redirect to a freshly signed URL of one output",
      security: bearer,
      request: { params: z.object({ id: z.string(), index: z.string() }) },
      responses: { 302: { description: "Location: the signed URL" }, 404: problem("No such output"), 410: problem("Purged") },
    },
    {
      method: "get",
      path: "/v1/jobs/{id}/webhook_deliveries",
      summary: "The job's webhook delivery log",
      security: bearer,
      request: { params: idParam },
      responses: { 200: json(z.object({ object: z.literal("list"), data: z.array(WebhookDelivery) }), "Deliveries") },
    },
    {
      method: "post",
      path: "/v1/jobs/{id}/webhook_deliveries/{delivery}/redeliver",
      summary: "Send a webhook event again",
      security: bearer,
      request: { params: z.object({ id: z.string(), delivery: z.string() }) },
      responses: { 202: json(WebhookDelivery, "Queued") },
    },
    { method: "get", path: "/v1/webhook_secret", summary: "Your webhook signing secret", security: bearer, responses: { 200: json(WebhookSecret, "Secret") } },
    { method: "post", path: "/v1/webhook_secret/rotate", summary: "Rotate it; the old one signs too for 24 h", security: bearer, responses: { 200: json(WebhookSecret, "Secret") } },
    {
      method: "post",
      path: "/v1/admin/keys",
      summary: "Create an API key (admin)",
      security: bearer,
      request: { body: { content: { "application/json": { schema: CreateKeyRequest } } } },
      responses: { 201: json(CreatedApiKey, "The key, shown once"), ...errors },
    },
    {
      method: "get",
      path: "/v1/admin/keys",
      summary: "List API keys (admin)",
      security: bearer,
      request: { query: z.object({ owner_id: z.string().optional() }) },
      responses: { 200: json(z.object({ object: z.literal("list"), data: z.array(ApiKey) }), "Keys") },
    },
    { method: "post", path: "/v1/admin/keys/{id}/revoke", summary: "Revoke an API key (admin)", security: bearer, request: { params: idParam }, responses: { 200: json(ApiKey, "Revoked") } },
  ];
}

let cached: object | null = null;

export function openApiDocument(serverUrl: string): object {
  if (!cached) {
    const registry = new OpenAPIRegistry();
    registry.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer", description: "ek_live_... or ek_test_..." });
    for (const r of routes()) registry.registerPath(r);
    cached = new OpenApiGeneratorV31(registry.definitions).generateDocument({
      openapi: "3.1.0",
      info: { title: "EcomID API", version: "1.0.0", description: "Identity-preserving portraits from one reference face photo and a prompt." },
    });
  }
  return { ...cached, servers: [{ url: serverUrl }] };
}
