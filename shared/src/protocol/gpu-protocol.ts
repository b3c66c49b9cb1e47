import { z } from "zod";
import { FaceDetection, Progress } from "../api/job.js";
import { JobError } from "../errors.js";
import { EdgeDetector, JobInputFields } from "../api/job-input.js";
import { DEFAULT_PROVENANCE_EMBED, JobProvenance, ProvenanceRequest } from "../api/provenance.js";

/**
 * The edge <-> GPU-function protocol, version 1.
 *
 * Edge -> GPU: POST {pool}/v1/jobs with a GpuJobRequest and
 * `Authorization: Bearer <dispatch token>`; the GPU answers 202, or a GpuRefusal
 * (gpu-refusal.ts: 429/503 when full, loading or draining).
 * GPU -> edge: POST callback.url with a GpuCallback, signed with callback.secret
 * (see signature.ts). A callback answer says whether the job was canceled; a refusal
 * (CALLBACK_REFUSAL_STATUSES) means the attempt must stop.
 */
export const PROTOCOL_VERSION = "ecomid.gpu/1";

export const ResolvedImage = z
  .object({
    url: z.string().describe("signed GET URL"),
    content_type: z.string(),
    sha256: z.string(),
    bytes: z.number().int(),
  })
  .meta({ id: "ResolvedImage" });
export type ResolvedImage = z.infer<typeof ResolvedImage>;

export const ResolvedKeypoints = z.discriminatedUnion("type", [
  z.object({ type: z.literal("reference") }),
  z.object({ type: z.literal("pose_image"), image: ResolvedImage }),
  z.object({ type: z.literal("points"), points: z.array(z.tuple([z.number(), z.number()])).length(5) }),
  z.object({ type: z.literal("keypoint_image"), image: ResolvedImage }),
  // The largest face of spec.inpaint.image; where it has none, the reference's keypoints as for "reference".
  z.object({ type: z.literal("inpaint_image") }),
]);

/**
 * The inpaint input with its images resolved. `mask` is null when `mask_from` is "alpha"
 * (the mask is the image's alpha < 128); the edge has checked that mask and image are the
 * same size and that an "alpha" image has an alpha channel. The rest is as the API's
 * InpaintInput states it (issue 14's contract: binarise, grow, condition, feather, keep).
 */
export const ResolvedInpaint = z
  .object({
    image: ResolvedImage,
    mask: ResolvedImage.nullable(),
    mask_from: z.enum(["mask", "alpha"]),
    grow: z.number().int().min(0),
    feather: z.number().int().min(0),
    strength: z.number().min(0),
    keep_unmasked: z.boolean(),
  })
  .meta({ id: "ResolvedInpaint" });
export type ResolvedInpaint = z.infer<typeof ResolvedInpaint>;

/** The softedge input resolved: a photo with the detector to run on it (named even when the client left the default), or an edge map used as is. */
export const ResolvedSoftedge = z
  .union([
    z.object({ image: ResolvedImage, detector: EdgeDetector, strength: z.number().min(0) }).strict(),
    z.object({ edge_map: ResolvedImage, strength: z.number().min(0) }).strict(),
  ])
  .meta({ id: "ResolvedSoftedge" });
export type ResolvedSoftedge = z.infer<typeof ResolvedSoftedge>;

/**
 * What the job asked to have embedded in its outputs (issue 15), defaults applied by the edge: the API's own
 * schema (one concept): "c2pa+iptc" is XMP with the IPTC digital source type plus a signed C2PA manifest, "iptc"
 * the XMP alone, "none" nothing; the prompt goes into XMP only with include_prompt.
 */
export const GpuProvenanceRequest = ProvenanceRequest;
export type GpuProvenanceRequest = ProvenanceRequest;
export const DEFAULT_GPU_PROVENANCE: GpuProvenanceRequest = { embed: DEFAULT_PROVENANCE_EMBED, include_prompt: false };

/** What the GPU embedded in every output of a succeeded job (all outputs are labelled alike): the job's `provenance`. */
export const GpuProvenanceReport = JobProvenance;
export type GpuProvenanceReport = JobProvenance;

/**
 * The job's parameters as the API validated them, with its images resolved to signed URLs,
 * the seed fixed and the output size resolved (an inpaint job without a size gets its
 * image's, rounded: shared/src/api/output-size.ts).
 */
export const GpuJobSpec = JobInputFields.omit({
  reference_images: true,
  keypoints: true,
  seed: true,
  return_intermediates: true,
  inpaint: true,
  softedge: true,
}).extend({
  reference_images: z.array(ResolvedImage).min(1),
  keypoints: ResolvedKeypoints,
  seed: z.number().int(),
  width: z.number().int().min(1),
  height: z.number().int().min(1),
  inpaint: ResolvedInpaint.optional(),
  softedge: ResolvedSoftedge.optional(),
  /** Absent (an edge that predates issue 15): DEFAULT_GPU_PROVENANCE, which the GPU function applies. */
  provenance: GpuProvenanceRequest.optional(),
});
export type GpuJobSpec = z.infer<typeof GpuJobSpec>;

export const UploadTarget = z.object({
  put_url: z.string(),
  content_type: z.string(),
  max_bytes: z.number().int(),
});

export const GpuJobRequest = z
  .object({
    protocol: z.literal(PROTOCOL_VERSION),
    job_id: z.string(),
    attempt: z.number().int().min(1),
    model: z.string(),
    bundle_version: z.string(),
    spec: GpuJobSpec,
    outputs: z.array(UploadTarget.extend({ index: z.number().int() })),
    intermediates: z.array(UploadTarget.extend({ kind: z.string() })),
    callback: z.object({ url: z.string(), secret: z.string().min(32) }),
    deadline_at: z.iso.datetime().nullable(),
    progress_previews: z.boolean(),
  })
  .meta({ id: "GpuJobRequest" });
export type GpuJobRequest = z.infer<typeof GpuJobRequest>;

export const GpuOutputReport = z.object({
  index: z.number().int(),
  content_type: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  seed: z.number().int(),
  identity_similarity: z.number().nullable(),
});
export type GpuOutputReport = z.infer<typeof GpuOutputReport>;

/** A preview clients may put straight into an <img src>: a base64 data: URL of an image type, nothing else. */
export const PREVIEW_DATA_URL = /^data:image\/(webp|png|jpeg);base64,[A-Za-z0-9+/]+={0,2}$/;

const Timings = z.object({ run_ms: z.number(), stages_ms: z.record(z.string(), z.number()) });

export const GpuCallback = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("started"), attempt: z.number().int(), worker: z.string().max(200).optional() }),
    z.object({
      type: z.literal("progress"),
      attempt: z.number().int(),
      progress: Progress,
      preview: z
        .string()
        .max(200_000)
        .regex(PREVIEW_DATA_URL, "must be a base64 data: URL of a WebP, PNG or JPEG image")
        .optional()
        .describe("data: URL of a small preview image"),
    }),
    z.object({
      type: z.literal("succeeded"),
      attempt: z.number().int(),
      outputs: z.array(GpuOutputReport).min(1),
      intermediates: z.array(z.object({ kind: z.string(), content_type: z.string() })),
      faces: z.array(FaceDetection),
      chosen_face: z.number().int(),
      timings: Timings,
      provenance: GpuProvenanceReport.optional(),
    }),
    // A job its inputs doom (face_not_detected; mask_empty and mask_full, known only once the
    // mask is decoded, binarised and grown) fails here with retryable false, never as a dispatch refusal.
    z.object({
      type: z.literal("failed"),
      attempt: z.number().int(),
      error: JobError,
      faces: z.array(FaceDetection).optional(),
      timings: Timings.optional(),
    }),
  ])
  .meta({ id: "GpuCallback" });
export type GpuCallback = z.infer<typeof GpuCallback>;

export const GpuCallbackAnswer = z.object({ ok: z.boolean(), cancel: z.boolean(), ignored: z.boolean().optional() });

/**
 * The edge refused the callback and the attempt must stop: a bad or expired signature
 * (403), a job that no longer exists (404), an attempt that was superseded (409). The
 * body is a problem document that says so with `cancel: true`; the status alone decides.
 */
export const CALLBACK_REFUSAL_STATUSES: readonly number[] = [403, 404, 409, 410];
export type GpuCallbackAnswer = z.infer<typeof GpuCallbackAnswer>;
