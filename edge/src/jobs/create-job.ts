import {
  capabilitiesUsed,
  DEFAULT_EDGE_DETECTOR,
  defaultKeypoints,
  missingCapabilities,
  outputSizeIssues,
  resolveOutputSize,
  type CreateJobRequest,
  type KeypointControl,
  type Model,
  type ResolvedJobInput,
} from "@ecomid/shared/api";
import { checkProvenanceScope } from "./provenance-scope.js";
import type { Config } from "../config/config.js";
import type { AppBindings, AuthContext } from "../env.js";
import { AppError } from "../errors.js";
import { newId } from "../lib/ids.js";
import { assertOutboundUrl } from "../lib/ssrf.js";
import { checkInpaintImages } from "./inpaint-checks.js";
import { settleInputBlobs, storeInputBlobs, type ImageToStore } from "./input-blobs.js";
import { promptTokenCount } from "./prompt-tokens.js";
import { checkImage, type ResolveContext } from "./resolve-inputs.js";
import { lookupCachedJob, resultCacheKey } from "./result-cache.js";
import { r2Keys, type StoredInputs, type StoredJob } from "./types.js";

/** A job the model's bundle cannot run: refused before any image is fetched, with what the model offers. */
function checkCapabilities(model: Model, input: CreateJobRequest["input"]): void {
  const missing = missingCapabilities(model.capabilities, capabilitiesUsed(input));
  if (!missing.length) return;
  const offered = `${model.id} offers the ControlNets ${model.capabilities.controlnets.join(", ")} and the edge detectors ${model.capabilities.edge_detectors.join(", ") || "(none)"}`;
  throw new AppError("capability_not_supported", `${model.id}'s bundle lacks ${missing.map((m) => m.message).join(" and ")}; ${offered}`, {
    errors: missing.map((m) => ({ pointer: m.pointer, code: "capability_not_supported", message: `${model.id} lacks ${m.message}` })),
    extensions: { capabilities: model.capabilities },
  });
}

/** Per-model limits, narrower than the API's: refused with a pointer to the field. */
export function checkModelLimits(model: Model, input: ResolvedJobInput): void {
  const l = model.limits;
  const errors: { pointer: string; code: string; message: string }[] = [];
  for (const side of ["width", "height"] as const) {
    if (input[side] < l.min_side || input[side] > l.max_side) {
      errors.push({
        pointer: `/input/${side}`,
        code: "too_small_or_big",
        message: `${model.id} takes ${side} from ${l.min_side} to ${l.max_side}`,
      });
    } else if (input[side] % l.side_multiple !== 0) {
      errors.push({
        pointer: `/input/${side}`,
        code: "not_multiple",
        message: `${model.id} takes ${side} in multiples of ${l.side_multiple}`,
      });
    }
  }
  if (input.width * input.height > l.max_pixels)
    errors.push({ pointer: "/input/width", code: "too_big", message: `${model.id} takes at most ${l.max_pixels} pixels` });
  if (input.steps > l.max_steps)
    errors.push({ pointer: "/input/steps", code: "too_big", message: `${model.id} takes at most ${l.max_steps} steps` });
  if (!l.samplers.includes(input.sampler))
    errors.push({ pointer: "/input/sampler", code: "invalid_value", message: `${model.id} does not offer ${input.sampler}` });
  // Counted with the bundle's own tokenizer: a prompt the GPU function would refuse is refused here, before any job exists.
  for (const field of ["prompt", "negative_prompt"] as const) {
    const tokens = input[field] ? promptTokenCount(input[field]) : 0;
    if (tokens > l.max_prompt_tokens) {
      errors.push({
        pointer: `/input/${field}`,
        code: "too_many_tokens",
        message: `${field} is ${tokens} CLIP tokens long; ${model.id} takes at most ${l.max_prompt_tokens}`,
      });
    }
  }
  // A size taken from the inpaint image is known only now: keypoints given as points must lie inside it.
  for (const issue of outputSizeIssues(input, l.max_pixels).filter((i) => i.path[0] === "keypoints"))
    errors.push({ pointer: `/input/${issue.path.join("/")}`, code: "outside_image", message: issue.message });
  if (errors.length) throw new AppError("parameter_out_of_range", errors.map((e) => `${e.pointer}: ${e.message}`).join("; "), { errors });
}

export interface CreateJobArgs {
  env: AppBindings;
  config: Config;
  auth: AuthContext;
  request: CreateJobRequest;
  files: Map<string, Uint8Array>;
  requestId?: string;
}

/**
 * Checks every input, then either completes the job at once from the result cache or
 * reserves an in-flight slot (only jobs that need a GPU take one), stores the inputs
 * and records the job as queued, which dispatches it.
 */
export async function createJob({ env, config, auth, request, files, requestId }: CreateJobArgs): Promise<StoredJob> {
  const model = config.models.find((m) => m.id === request.model);
  if (!model) {
    throw new AppError("model_not_found", `no model "${request.model}" here; GET /v1/models lists them`, {
      status: 422,
      errors: [{ pointer: "/model", code: "model_not_found", message: `unknown model ${request.model}` }],
    });
  }
  // One input for one job: intermediates once each (the GPU function returns each kind once), a photo's
  // edge detector named, the keypoints used when none were given.
  const asked = normalizedInput(request.input);
  checkProvenanceScope(auth, asked.provenance);
  checkCapabilities(model, asked);
  // The size is known now unless it comes from the inpaint image, whose header is read below.
  const fallbackSize = { width: Number(model.defaults.width ?? 1024), height: Number(model.defaults.height ?? 1024) };
  const sizeFromImage = asked.inpaint !== undefined && (asked.width === undefined || asked.height === undefined);
  if (!sizeFromImage) checkModelLimits(model, { ...asked, ...resolveOutputSize(asked, null, fallbackSize, model.limits) });
  if (request.webhook) {
    try {
      assertOutboundUrl(request.webhook.url, { allowLoopback: config.allowLoopbackHttp }, "webhook.url");
    } catch (e) {
      if (e instanceof AppError)
        throw new AppError(e.code, e.detail, { errors: [{ pointer: "/webhook/url", code: e.code, message: e.detail }] });
      throw e;
    }
  }
  const jobId = newId("job");
  // Every image is fetched, read and checked before anything is stored: a refusal here
  // (a missing part, a URL that fails, a bad format, a mask that does not fit) leaves the bucket as it was.
  const ctx = { env, config, ownerId: auth.ownerId, files };
  const { toStore, inputs } = await checkInputImages(asked, ctx);
  const inpaintImage = inputs.inpaint_image ?? null;
  const input: ResolvedJobInput = { ...asked, ...resolveOutputSize(asked, inpaintImage, fallbackSize, model.limits) };
  if (sizeFromImage) checkModelLimits(model, input);

  const seed = input.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
  const cacheKey = await resultCacheKey({ owner: auth.ownerId, bundle: model.bundle_version, input, seed, images: inputs });

  const now = new Date().toISOString();
  const stored: StoredJob = {
    owner_id: auth.ownerId,
    key_id: auth.keyId,
    inputs,
    outputs: [],
    intermediates: [],
    cache_key: cacheKey,
    ...(requestId ? { request_id: requestId } : {}),
    core: {
      id: jobId,
      object: "job",
      model: model.id,
      bundle_version: model.bundle_version,
      status: "queued",
      substatus: null,
      cached: false,
      attempt: 1,
      input,
      seed,
      metadata: request.metadata,
      webhook: request.webhook ?? null,
      progress: null,
      faces: null,
      chosen_face: null,
      error: null,
      provenance: null,
      metrics: { queue_ms: null, run_ms: null, total_ms: null },
      data_removed: false,
      retention_seconds: request.retention_seconds,
      created_at: now,
      updated_at: now,
      started_at: null,
      completed_at: null,
      deadline_at: request.deadline_seconds ? new Date(Date.now() + request.deadline_seconds * 1000).toISOString() : null,
      expires_at: null,
    },
  };

  const job = env.JOBS.get(env.JOBS.idFromName(jobId));
  const fromCache = await completeFromCache(env, stored);
  if (fromCache) {
    await storeInputBlobs(env, auth.ownerId, toStore);
    await job.create(fromCache, { dispatch: false });
    await settleInputBlobs(env, toStore);
    return fromCache;
  }

  // Capacity is reserved before any input is stored: a refused job stores nothing.
  const guard = env.KEY_GUARDS.get(env.KEY_GUARDS.idFromName(auth.keyId));
  const slot = await guard.reserveSlot(jobId, config.maxJobsInFlight);
  if (!slot.ok) {
    throw new AppError(
      "too_many_jobs_in_flight",
      `this key already has ${slot.inFlight} jobs queued or running (limit ${config.maxJobsInFlight})`,
      {
        headers: { "retry-after": "5" },
      },
    );
  }
  try {
    await storeInputBlobs(env, auth.ownerId, toStore);
    await job.create(stored, { dispatch: true });
  } catch (e) {
    await guard.releaseSlot(jobId); // nothing was created: give the slot back (stored inputs have their pending release)
    throw e;
  }
  await settleInputBlobs(env, toStore);
  return stored;
}

/** Same inputs, parameters, seed and bundle as an earlier job of this owner: copy its outputs, no GPU. */
async function completeFromCache(env: AppBindings, stored: StoredJob): Promise<StoredJob | null> {
  const earlierId = stored.cache_key ? await lookupCachedJob(env, stored.cache_key) : null;
  if (!earlierId) return null;
  const earlier = (await env.JOBS.get(env.JOBS.idFromName(earlierId)).get()) as StoredJob | null;
  if (!earlier || earlier.owner_id !== stored.owner_id || earlier.core.status !== "succeeded" || earlier.core.data_removed) return null;
  const copy = async (from: string, to: string) => {
    const object = await env.FILES.get(from);
    if (!object) return false;
    await env.FILES.put(to, object.body, { httpMetadata: object.httpMetadata ?? {} });
    return true;
  };
  const prefix = r2Keys.jobPrefix(stored.owner_id, stored.core.id);
  const rekey = (key: string) => prefix + key.slice(r2Keys.jobPrefix(earlier.owner_id, earlier.core.id).length);
  for (const o of [...earlier.outputs, ...earlier.intermediates]) {
    if (!(await copy(o.key, rekey(o.key)))) return null; // purged meanwhile: run it for real
  }
  const now = new Date().toISOString();
  return {
    ...stored,
    outputs: earlier.outputs.map((o) => ({ ...o, key: rekey(o.key) })),
    intermediates: earlier.intermediates.map((i) => ({ ...i, key: rekey(i.key) })),
    core: {
      ...stored.core,
      status: "succeeded",
      cached: true,
      faces: earlier.core.faces,
      chosen_face: earlier.core.chosen_face,
      // The same bytes, so the same labels (the cache key holds the provenance request).
      provenance: earlier.core.provenance ?? null,
      started_at: now,
      completed_at: now,
      expires_at: new Date(Date.now() + stored.core.retention_seconds * 1000).toISOString(),
      metrics: { queue_ms: 0, run_ms: 0, total_ms: 0 },
    },
  };
}

/**
 * The request's input with what stands for the same job made one: intermediates once each,
 * a photo's edge detector named, and the keypoints used when none were given.
 */
function normalizedInput(input: CreateJobRequest["input"]): CreateJobRequest["input"] & { keypoints: KeypointControl } {
  const softedge = input.softedge;
  return {
    ...input,
    keypoints: input.keypoints ?? defaultKeypoints(input),
    return_intermediates: [...new Set(input.return_intermediates)],
    ...(softedge
      ? { softedge: softedge.image !== undefined ? { ...softedge, detector: softedge.detector ?? DEFAULT_EDGE_DETECTOR } : softedge }
      : {}),
  };
}

/** Reads and checks every input image (nothing is stored yet): what the job will hold, and the new bytes to store. */
async function checkInputImages(
  input: CreateJobRequest["input"],
  ctx: ResolveContext,
): Promise<{ toStore: ImageToStore[]; inputs: StoredInputs }> {
  const references: ImageToStore[] = [];
  for (const [i, ref] of input.reference_images.entries()) {
    references.push(await checkImage(ref, `/input/reference_images/${i}`, ctx));
  }
  const kp = input.keypoints;
  const keypointInput =
    kp?.type === "pose_image" || kp?.type === "keypoint_image" ? await checkImage(kp.image, "/input/keypoints/image", ctx) : null;
  const inpaint = input.inpaint;
  const inpaintImage = inpaint ? await checkImage(inpaint.image, "/input/inpaint/image", ctx) : null;
  const inpaintMask = inpaint?.mask !== undefined ? await checkImage(inpaint.mask, "/input/inpaint/mask", ctx) : null;
  if (inpaint && inpaintImage) await checkInpaintImages(ctx.env, inpaint, inpaintImage, inpaintMask);
  const softedge = input.softedge;
  const softedgeRef = softedge?.image ?? softedge?.edge_map;
  const softedgeImage =
    softedgeRef !== undefined
      ? await checkImage(softedgeRef, softedge?.image !== undefined ? "/input/softedge/image" : "/input/softedge/edge_map", ctx)
      : null;
  const checked = [...references, keypointInput, inpaintImage, inpaintMask, softedgeImage].filter((i): i is ImageToStore => i !== null);
  return {
    toStore: checked,
    inputs: {
      reference: references.map((r) => r.image),
      keypoint_image: keypointInput?.image ?? null,
      ...(inpaintImage ? { inpaint_image: inpaintImage.image, inpaint_mask: inpaintMask?.image ?? null } : {}),
      ...(softedgeImage ? { softedge_image: softedgeImage.image } : {}),
    },
  };
}
