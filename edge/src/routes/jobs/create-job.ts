import { createRoute } from "@hono/zod-openapi";
import { API_LIMITS, CreateJobRequest, Job } from "@ecomid/shared/api";
import type { Model } from "@ecomid/shared/api";
import { getConfig } from "../../config/config.js";
import { jobRequestSchemas } from "../../config/job-request.js";
import { createJob } from "../../jobs/create-job.js";
import { presentJob } from "../../jobs/present.js";
import { sha256Hex } from "@ecomid/shared/crypto";
import { canonicalJson } from "../../lib/canonical-json.js";
import { readJobForm } from "../../lib/multipart.js";
import { MAX_JSON_BYTES, readJson, validate } from "../../lib/parse.js";
import { deploymentJobFormRequest, deploymentJobRequest } from "../../openapi/deployment.js";
import { headerParameter } from "../../openapi/parameters.js";
import { bodyRefusals, json, problem } from "../../openapi/responses.js";
import type { Router } from "../../openapi/router.js";
import { requiresKey } from "../../openapi/security.js";
import type { JsonSchema, LinksObject } from "../../openapi/types.js";
import { IdempotencyKey, withIdempotency } from "../idempotency.js";

type ImageFields = { image?: unknown; mask?: unknown; edge_map?: unknown } | null | undefined;

/** The file parts a job's JSON names: `{ "file": name }` in its references, keypoint, inpaint and softedge images. */
function fileNamesOf(request: unknown): Set<string> {
  const names = new Set<string>();
  const input = (
    request as {
      input?: { reference_images?: unknown; keypoints?: ImageFields; inpaint?: ImageFields; softedge?: ImageFields };
    } | null
  )?.input;
  const refs = Array.isArray(input?.reference_images) ? input.reference_images : [];
  const { keypoints, inpaint, softedge } = input ?? {};
  for (const ref of [...refs, keypoints?.image, inpaint?.image, inpaint?.mask, softedge?.image, softedge?.edge_map]) {
    const file = (ref as { file?: unknown } | null | undefined)?.file;
    if (typeof file === "string") names.add(file);
  }
  return names;
}

const JOB_FORM_LIMITS = {
  maxBytes: API_LIMITS.maxMultipartBytes,
  maxJsonBytes: MAX_JSON_BYTES,
  maxFileBytes: API_LIMITS.maxImageBytes,
  // The request, its reference images, a pose or keypoint image, an inpaint image and mask, a softedge image or edge map.
  maxParts: 1 + API_LIMITS.maxReferenceImages + 1 + 2 + 1,
  fileNames: fileNamesOf,
};

/** JSON, or multipart/form-data with the JSON in a first part named `request` and the image files it names after it. */
const isMultipart = (request: Request) => /^multipart\/form-data/i.test(request.headers.get("content-type") ?? "");

async function readCreateBody(request: Request): Promise<{ body: unknown; files: Map<string, Uint8Array> }> {
  if (!isMultipart(request)) return { body: await readJson(request), files: new Map() };
  const form = await readJobForm(request, JOB_FORM_LIMITS);
  return { body: form.request, files: form.files };
}

/**
 * A request without a model gets the deployment's default (the OpenAPI document's, see
 * config/job-request.ts), and fields the client left out take the chosen model's
 * defaults (GET /v1/models), then the API's. An inpaint job's size is not one of them:
 * a side left out takes the inpaint image's (createJob, once its header is read).
 */
function withModelDefaults(body: unknown, models: Model[], defaultModel: string): unknown {
  if (!body || typeof body !== "object" || Array.isArray(body)) return body;
  const raw = { ...(body as { model?: unknown; input?: unknown }) };
  raw.model ??= defaultModel;
  const model = models.find((m) => m.id === raw.model);
  if (!model || !raw.input || typeof raw.input !== "object" || Array.isArray(raw.input)) return raw;
  const input = raw.input as Record<string, unknown>;
  const { width: _width, height: _height, ...sizeless } = model.defaults;
  const defaults = input.inpaint !== undefined ? sizeless : model.defaults;
  return { ...raw, input: { ...defaults, ...input } };
}

/**
 * The multipart form as documented: the job JSON (first) and one image part, `face`,
 * which the JSON names. The API takes any part names the JSON names, but a JSON Schema
 * cannot tie a part to the name inside another part, so the document states one name.
 */
const jobForm: { schema: JsonSchema; encoding: Record<string, { contentType: string }> } = {
  schema: {
    type: "object",
    properties: {
      request: { ...deploymentJobFormRequest, description: 'the job, as JSON; its reference images are {"file": "face"}' },
      face: { type: "string", format: "binary", description: "the reference image (JPEG, PNG or WebP, at most 15 MB)" },
    },
    required: ["request", "face"],
    additionalProperties: false,
  },
  encoding: { request: { contentType: "application/json" }, face: { contentType: "image/png, image/jpeg, image/webp" } },
};

/** Links from a created job's id to every operation that takes it. */
const JOB_ID = "$response.body#/id";
const jobLinks: LinksObject = {
  GetJob: { operationId: "getJob", parameters: { id: JOB_ID } },
  CancelJob: { operationId: "cancelJob", parameters: { id: JOB_ID } },
  DeleteJob: { operationId: "deleteJob", parameters: { id: JOB_ID } },
  JobEvents: { operationId: "getJobEvents", parameters: { id: JOB_ID } },
  WebhookDeliveries: { operationId: "listWebhookDeliveries", parameters: { id: JOB_ID } },
};

const createJobRoute = createRoute({
  method: "post",
  path: "/",
  operationId: "createJob",
  summary: "Create a generation job",
  description:
    'JSON, or multipart/form-data with the same JSON in a first part named `request` and, after it, the image files it names as `{"file": "<part name>"}` (any other part is refused). Send an `Idempotency-Key` to retry safely. Every output is labelled as AI-generated by default (`input.provenance`: signed C2PA Content Credentials and IPTC XMP); the job says what was embedded once it succeeds.',
  ...requiresKey("jobs:write", { creates: true }),
  // Read by the handler as it streams (multipart parts judged before they are read), then checked by the API-wide
  // schema and the model's limits (jobs/create-job.ts), which together accept exactly what the deployment's schema states.
  parameters: [headerParameter("idempotency-key", "1 to 255 printable ASCII characters; kept 24 h per key", IdempotencyKey)],
  request: { body: { required: true, content: { "application/json": { schema: deploymentJobRequest }, "multipart/form-data": jobForm } } },
  responses: {
    201: json(Job, "Created (already succeeded when served from the result cache)", jobLinks),
    ...bodyRefusals,
    403: problem(
      'The key lacks the jobs:write scope, or asks for unlabelled outputs (`provenance.embed: "none"`) without the provenance:none scope (`forbidden`, naming it)',
    ),
    422: problem(
      "Invalid input (`errors` points at each bad field), or refused by the model: a limit (`parameter_out_of_range`), a ControlNet or edge detector its bundle lacks (`capability_not_supported`, with the model's `capabilities`), an inpaint mask of another size than its image (`mask_size_mismatch`), or `mask_from: alpha` on an image without alpha (`mask_missing_alpha`)",
    ),
    404: problem("A referenced upload does not exist (or is not yours)"),
    409: problem("The same Idempotency-Key is still being processed, or a referenced upload is not complete"),
    410: problem("A referenced upload has expired"),
  },
});

export function registerCreateJob(router: Router): void {
  router.openapi(createJobRoute, async (c) => {
    const { body, files } = await readCreateBody(c.req.raw);
    const config = getConfig(c.env);
    // The API-wide rules first (invalid_request); the model's own limits follow in createJob (parameter_out_of_range).
    const request = validate(CreateJobRequest, withModelDefaults(body, config.models, jobRequestSchemas(config).defaultModel));
    const auth = c.get("auth");
    const fingerprint = async () => {
      const fileHashes = Object.fromEntries(await Promise.all([...files].map(async ([k, v]) => [k, await sha256Hex(v)] as const)));
      return sha256Hex(canonicalJson({ request, files: fileHashes }));
    };
    return withIdempotency(c, fingerprint, async () => {
      const stored = await createJob({ env: c.env, config, auth, request, files, requestId: c.get("requestId") });
      const job = await presentJob(stored, c.env, config);
      return new Response(JSON.stringify(job), {
        status: 201,
        headers: { "content-type": "application/json", location: `/v1/jobs/${job.id}` },
      });
    });
  });
}
