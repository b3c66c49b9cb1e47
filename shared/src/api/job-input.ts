import { z } from "zod";
import { ALLOWED_IMAGE_TYPES, API_LIMITS as L } from "./limits.js";

export const ImageContentType = z.enum(ALLOWED_IMAGE_TYPES).meta({ id: "ImageContentType" });

/** Where an input image comes from: an earlier upload, an HTTPS URL, or a part of this multipart request. */
export const ImageRef = z
  .union([
    z.object({ upload_id: z.string().regex(/^upl_[0-9a-z]{26}$/, "must be an upload id (upl_...)") }).strict(),
    z.object({ url: z.url({ protocol: /^https?$/ }).max(L.maxUrlChars) }).strict(),
    z.object({ file: z.string().min(1).max(100).describe("name of a file part in this multipart/form-data request") }).strict(),
  ])
  .meta({ id: "ImageRef", description: "Exactly one of upload_id, url (https) or file (multipart part name)." });
export type ImageRef = z.infer<typeof ImageRef>;

const Point = z.tuple([z.number().finite(), z.number().finite()]);

/** Five face keypoints in output-image pixels: left eye, right eye, nose, left mouth corner, right mouth corner. */
export const KeypointControl = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("reference") }).strict().describe("use the reference face's own keypoints"),
    z
      .object({ type: z.literal("pose_image"), image: ImageRef })
      .strict()
      .describe("keypoints of the largest face in this image; if it has no face the image is used as the hint as is"),
    z.object({ type: z.literal("points"), points: z.array(Point).length(5) }).strict(),
    z.object({ type: z.literal("keypoint_image"), image: ImageRef }).strict().describe("a pre-drawn keypoint image"),
  ])
  .meta({ id: "KeypointControl" });
export type KeypointControl = z.infer<typeof KeypointControl>;

export const Sampler = z
  .enum(["euler", "euler_ancestral", "dpmpp_2m_karras", "dpm_2_karras", "dpm_solver_trailing"])
  .meta({ id: "Sampler", description: "dpm_2_karras is the EcomID workflow's sampler; dpm_solver_trailing suits Lightning/Turbo bundles." });
export type Sampler = z.infer<typeof Sampler>;

export const IdMode = z.enum(["fidelity", "style", "neutral"]).meta({ id: "IdMode" });
export const OutputFormat = z.enum(["webp", "png", "jpeg"]).meta({ id: "OutputFormat" });
export type OutputFormat = z.infer<typeof OutputFormat>;
export const OUTPUT_CONTENT_TYPES: Record<OutputFormat, string> = { webp: "image/webp", png: "image/png", jpeg: "image/jpeg" };
export const Intermediate = z
  .enum(["keypoint_image", "arcface_crop", "ffhq_crop"])
  .meta({ id: "Intermediate", description: "Intermediate images to return beside the outputs." });
export const WebhookEventType = z
  .enum(["job.progress", "job.succeeded", "job.failed", "job.canceled", "job.aborted"])
  .meta({ id: "WebhookEventType" });

const multipleOf8 = (name: string) =>
  z.number().int().min(L.minSide).max(L.maxSide).refine((v) => v % 8 === 0, `${name} must be a multiple of 8`);

/**
 * The parameters of one generation, as fields: the GPU protocol's job spec reuses them
 * with the images resolved. Defaults follow EcomID's shipped workflow (fidelity,
 * identity 0.3, IdentityNet 0.8, 25 steps, CFG 3.5, dpm_2 + Karras, 1024x1024).
 */
export const JobInputFields = z.object({
    reference_images: z.array(ImageRef).min(1).max(L.maxReferenceImages),
    prompt: z.string().trim().min(1).max(L.maxPromptChars),
    negative_prompt: z.string().max(L.maxPromptChars).default(""),
    keypoints: KeypointControl.default({ type: "reference" }),
    face_index: z
      .number()
      .int()
      .min(0)
      .max(31)
      .optional()
      .describe("which detected face of the first reference to use, by index in size order; default the largest"),
    identity_strength: z.number().min(0).max(L.maxStrength).default(0.3),
    structure_strength: z.number().min(0).max(L.maxStrength).default(0.8),
    id_mode: IdMode.default("fidelity"),
    id_noise: z.number().min(0).max(1).default(0).describe("noise in the negative ID embeddings (EcomID's basic node uses 0.35)"),
    steps: z.number().int().min(1).max(L.maxSteps).default(25),
    guidance: z.number().min(1).max(L.maxGuidance).default(3.5),
    sampler: Sampler.default("dpm_2_karras"),
    seed: z.number().int().min(0).max(L.maxSeed).optional().describe("random when omitted; the seed used is on the job"),
    width: multipleOf8("width").default(1024),
    height: multipleOf8("height").default(1024),
    num_outputs: z.number().int().min(1).max(L.maxOutputs).default(1),
    output_format: OutputFormat.default("webp"),
    output_quality: z.number().int().min(1).max(100).default(90),
    return_intermediates: z.array(Intermediate).max(3).default([]),
});

export const JobInput = JobInputFields.strict()
  .superRefine((v, ctx) => {
    if (v.width * v.height > L.maxOutputPixels) {
      ctx.addIssue({ code: "custom", path: ["width"], message: `width x height must be at most ${L.maxOutputPixels} pixels` });
    }
    if (v.keypoints.type === "points") {
      v.keypoints.points.forEach(([x, y], i) => {
        if (x < 0 || y < 0 || x >= v.width || y >= v.height) {
          ctx.addIssue({
            code: "custom",
            path: ["keypoints", "points", i],
            message: `keypoint (${x}, ${y}) lies outside the ${v.width}x${v.height} output image`,
          });
        }
      });
    }
  })
  .meta({ id: "JobInput" });
export type JobInput = z.infer<typeof JobInput>;

export const Metadata = z
  .record(z.string().min(1).max(L.maxMetadataKeyChars), z.string().max(L.maxMetadataValueChars))
  .refine((m) => Object.keys(m).length <= L.maxMetadataKeys, `at most ${L.maxMetadataKeys} keys`)
  .meta({ id: "Metadata", description: "Your own string pairs, returned on the job and in webhooks." });

export const WebhookSubscription = z
  .object({
    url: z.url({ protocol: /^https?$/ }).max(L.maxUrlChars),
    events: z.array(WebhookEventType).min(1).default(["job.succeeded", "job.failed", "job.canceled", "job.aborted"]),
  })
  .strict()
  .meta({ id: "WebhookSubscription" });

export const CreateJobRequest = z
  .object({
    model: z.string().min(1).max(100).default("ecomid-sdxl"),
    input: JobInput,
    webhook: WebhookSubscription.optional(),
    metadata: Metadata.default({}),
    deadline_seconds: z
      .number()
      .int()
      .min(L.minDeadlineSeconds)
      .max(L.maxDeadlineSeconds)
      .optional()
      .describe("the job is aborted if no GPU has started it by then, and failed if it has not finished"),
    retention_seconds: z.number().int().min(L.minRetentionSeconds).max(L.maxRetentionSeconds).default(L.defaultRetentionSeconds),
  })
  .strict()
  .meta({ id: "CreateJobRequest" });
export type CreateJobRequest = z.infer<typeof CreateJobRequest>;
