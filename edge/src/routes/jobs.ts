import { Hono } from "hono";
import { CreateJobRequest, isTerminal, ListJobsQuery, API_LIMITS } from "@ecomid/shared/api";
import type { Model } from "@ecomid/shared/api";
import { getConfig } from "../config/config.js";
import { jobRequestSchemas } from "../config/job-request.js";
import { listJobRows } from "../db/jobs.js";
import { jobIndexWriter } from "../durable-objects/job-index-writer.js";
import type { AppContext, AppEnv } from "../env.js";
import { AppError } from "../errors.js";
import { createJob } from "../jobs/create-job.js";
import { presentJob } from "../jobs/present.js";
import type { StoredJob } from "../jobs/types.js";
import { authenticate } from "../middleware/auth.js";
import { canonicalJson, sha256Hex } from "../lib/crypto.js";
import { JOB_ID_PATTERN } from "../lib/ids.js";
import { readJobForm } from "../lib/multipart.js";
import { MAX_JSON_BYTES, readJson, validate } from "../lib/parse.js";
import { downloadUrl } from "../lib/signed-urls.js";
import { withIdempotency } from "./idempotency.js";

export const jobRoutes = new Hono<AppEnv>();

/** The file parts a job's JSON names: `{ "file": name }` in its references and its keypoint image. */
function fileNamesOf(request: unknown): Set<string> {
  const names = new Set<string>();
  const input = (request as { input?: { reference_images?: unknown; keypoints?: { image?: unknown } } } | null)?.input;
  const refs = Array.isArray(input?.reference_images) ? input.reference_images : [];
  for (const ref of [...refs, input?.keypoints?.image]) {
    const file = (ref as { file?: unknown } | null | undefined)?.file;
    if (typeof file === "string") names.add(file);
  }
  return names;
}

const JOB_FORM_LIMITS = {
  maxBytes: API_LIMITS.maxMultipartBytes,
  maxJsonBytes: MAX_JSON_BYTES,
  maxFileBytes: API_LIMITS.maxImageBytes,
  // The request, its reference images and a pose or keypoint image.
  maxParts: 1 + API_LIMITS.maxReferenceImages + 1,
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
 * defaults (GET /v1/models), then the API's.
 */
function withModelDefaults(body: unknown, models: Model[], defaultModel: string): unknown {
  if (!body || typeof body !== "object" || Array.isArray(body)) return body;
  const raw = { ...(body as { model?: unknown; input?: unknown }) };
  raw.model ??= defaultModel;
  const model = models.find((m) => m.id === raw.model);
  if (!model || !raw.input || typeof raw.input !== "object" || Array.isArray(raw.input)) return raw;
  return { ...raw, input: { ...model.defaults, ...(raw.input as object) } };
}

jobRoutes.post("/", authenticate("jobs:write", { creates: true }), async (c) => {
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
    const config = getConfig(c.env);
    const stored = await createJob({ env: c.env, config, auth, request, files, requestId: c.get("requestId") });
    const job = await presentJob(stored, c.env, config);
    return new Response(JSON.stringify(job), {
      status: 201,
      headers: { "content-type": "application/json", location: `/v1/jobs/${job.id}` },
    });
  });
});

jobRoutes.get("/", authenticate("jobs:read"), async (c) => {
  const q = validate(ListJobsQuery, c.req.query(), "/query");
  // The schema's pattern admits only positions: every cursor it lets through is one to page on from.
  const [ms, cursorId] = q.cursor ? q.cursor.split(".") : [];
  const cursor = ms && cursorId ? { at: new Date(Number(ms)).toISOString(), id: cursorId } : undefined;
  // Changes still on their way into the index are written first: a client lists what it just created.
  await jobIndexWriter(c.env).flush();
  const rows = await listJobRows(c.env.DB, {
    ownerId: c.get("auth").ownerId,
    ...(q.status ? { status: q.status } : {}),
    ...(q.model ? { model: q.model } : {}),
    ...(q.updated_after ? { updatedAfter: q.updated_after } : {}),
    ...(q.created_after ? { createdAfter: q.created_after } : {}),
    ...(cursor ? { cursor } : {}),
    limit: q.limit,
  });
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  const hasMore = rows.length > q.limit;
  const config = getConfig(c.env);
  return c.json({
    object: "list",
    data: await Promise.all(page.map((s) => presentJob(s, c.env, config))),
    has_more: hasMore,
    next_cursor: hasMore && last ? `${Date.parse(q.updated_after ? last.core.updated_at : last.core.created_at)}.${last.core.id}` : null,
  });
});

/**
 * Reads come from the job's own Durable Object (the source of truth, one per job, so
 * status reads never queue behind a shared database). Another owner's job is
 * indistinguishable from a missing one.
 */
async function ownedJobOr404(c: AppContext) {
  const id = c.req.param("id") ?? "";
  if (!JOB_ID_PATTERN.test(id)) throw new AppError("not_found", `no job ${id}`);
  const stub = c.env.JOBS.get(c.env.JOBS.idFromName(id));
  const stored = (await stub.get()) as StoredJob | null;
  if (!stored || stored.owner_id !== c.get("auth").ownerId) throw new AppError("not_found", `no job ${id}`);
  return { stored, stub };
}

jobRoutes.get("/:id", authenticate("jobs:read"), async (c) => {
  const { stored } = await ownedJobOr404(c);
  return c.json(await presentJob(stored, c.env, getConfig(c.env)));
});

jobRoutes.post("/:id/cancel", authenticate("jobs:write"), async (c) => {
  const { stub } = await ownedJobOr404(c);
  const result = await stub.cancel();
  if (!result.ok || !result.stored) throw new AppError("job_not_cancelable", `the job is already ${result.stored?.core.status ?? "gone"}`);
  return c.json(await presentJob(result.stored as StoredJob, c.env, getConfig(c.env)));
});

jobRoutes.delete("/:id", authenticate("jobs:write"), async (c) => {
  const { stub } = await ownedJobOr404(c);
  await stub.purge();
  return c.body(null, 204);
});

jobRoutes.get("/:id/events", authenticate("jobs:read"), async (c) => {
  const { stub } = await ownedJobOr404(c);
  const after = Number(c.req.header("last-event-id") ?? c.req.query("after") ?? "0");
  const url = new URL(`https://job/events?after=${Number.isInteger(after) && after > 0 ? after : 0}`);
  const response = await stub.fetch(url);
  return new Response(response.body, response);
});

jobRoutes.get("/:id/outputs/:index", authenticate("jobs:read"), async (c) => {
  const { stored } = await ownedJobOr404(c);
  const index = Number(c.req.param("index"));
  const output = stored.outputs.find((o) => o.index === index);
  if (stored.core.data_removed) throw new AppError("output_not_available", "the job's outputs were purged at the end of its retention");
  if (!output) {
    const why = isTerminal(stored.core.status) ? `the job has no output ${c.req.param("index")}` : "the job has not finished";
    throw new AppError("not_found", why);
  }
  const config = getConfig(c.env);
  const { url, expiresAt } = await downloadUrl(c.env, config.publicBaseUrl, config.signingSecret, output.key, config.signedUrlTtlSeconds);
  return new Response(null, { status: 302, headers: { location: url, "x-url-expires-at": new Date(expiresAt * 1000).toISOString(), "cache-control": "no-store" } });
});
