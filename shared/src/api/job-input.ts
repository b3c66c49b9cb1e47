import { z } from "zod";
import { ALLOWED_IMAGE_TYPES, API_LIMITS as L } from "./limits.js";
import type { Model } from "./models.js";
import { DEFAULT_PROVENANCE_EMBED, ProvenanceRequest } from "./provenance.js";

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

/**
 * Some character that is not white space, spelled out as JavaScript's trim() knows it:
 * a class both JavaScript and the document's readers interpret alike (\\s differs).
 */
const NOT_BLANK = /[^\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;

/** Five face keypoints in output-image pixels: left eye, right eye, nose, left mouth corner, right mouth corner. */
export const KeypointControl = z
  .discriminatedUnion("type", [
    z
      .object({ type: z.literal("reference") })
      .strict()
      .describe("use the reference face's own keypoints"),
    z
      .object({ type: z.literal("pose_image"), image: ImageRef })
      .strict()
      .describe("keypoints of the largest face in this image; if it has no face the image is used as the hint as is"),
    z.object({ type: z.literal("points"), points: z.array(Point).length(5) }).strict(),
    z
      .object({ type: z.literal("keypoint_image"), image: ImageRef })
      .strict()
      .describe("a pre-drawn keypoint image"),
    z
      .object({ type: z.literal("inpaint_image") })
      .strict()
      .describe(
        "keypoints of the largest face in the inpaint image; the reference's, placed as for reference, when it has none (needs inpaint)",
      ),
  ])
  .meta({ id: "KeypointControl" });

/** Where the face goes when the client does not say: an inpaint image's own face if it has one, else the reference's. */
export const KEYPOINTS_DEFAULT =
  'default: {"type":"inpaint_image"} for a job with inpaint, else {"type":"reference"}; the job shows the one used';
export function defaultKeypoints(input: { inpaint?: unknown }): KeypointControl {
  return input.inpaint !== undefined ? { type: "inpaint_image" } : { type: "reference" };
}
export type KeypointControl = z.infer<typeof KeypointControl>;

export const Sampler = z.enum(["euler", "euler_ancestral", "dpmpp_2m_karras", "dpm_2_karras", "dpm_solver_trailing"]).meta({
  id: "Sampler",
  description: "dpm_2_karras is the EcomID workflow's sampler; dpm_solver_trailing suits Lightning/Turbo bundles.",
});
export type Sampler = z.infer<typeof Sampler>;

export const IdMode = z.enum(["fidelity", "style", "neutral"]).meta({ id: "IdMode" });
export const OutputFormat = z.enum(["webp", "png", "jpeg"]).meta({ id: "OutputFormat" });
export type OutputFormat = z.infer<typeof OutputFormat>;
export const OUTPUT_CONTENT_TYPES: Record<OutputFormat, string> = { webp: "image/webp", png: "image/png", jpeg: "image/jpeg" };
export const Intermediate = z.enum(["keypoint_image", "arcface_crop", "ffhq_crop", "edge_map", "inpaint_mask"]).meta({
  id: "Intermediate",
  description:
    "Intermediate images to return beside the outputs. edge_map (the softedge condition) needs softedge; inpaint_mask (the binary mask after grow, white = generated) needs inpaint.",
});
export type Intermediate = z.infer<typeof Intermediate>;
export const WebhookEventType = z
  .enum(["job.progress", "job.succeeded", "job.failed", "job.canceled", "job.aborted"])
  .meta({ id: "WebhookEventType" });

/** The ControlNets a model's bundle may have: IdentityNet (always), EcomXL Inpaint, EcomXL Softedge. */
export const ControlNetName = z.enum(["identitynet", "inpaint", "softedge"]).meta({ id: "ControlNetName" });
export type ControlNetName = z.infer<typeof ControlNetName>;

/** The soft-edge detectors (controlnet_aux's PidiNet and HED annotators) a model's bundle may have. */
export const EdgeDetector = z.enum(["pidinet", "hed"]).meta({ id: "EdgeDetector" });
export type EdgeDetector = z.infer<typeof EdgeDetector>;

/**
 * The ControlNets' default strengths are the controlnet_conditioning_scale of their model
 * cards' "Usage with Diffusers" examples: https://huggingface.co/alimama-creative/EcomXL_controlnet_inpaint
 * (0.5) and https://huggingface.co/alimama-creative/EcomXL_controlnet_softedge (0.6; its
 * examples also show 0.8).
 */
export const INPAINT_DEFAULT_STRENGTH = 0.5;
export const SOFTEDGE_DEFAULT_STRENGTH = 0.6;
/** The soft-edge detector a photo gets when none is named: the one the EcomXL Softedge model card uses. */
export const DEFAULT_EDGE_DETECTOR: EdgeDetector = "pidinet";

/** Inpainting around a kept product, with images of the given kind (API-wide, or as one request can give them). */
function inpaintInputFor<R extends z.ZodType>(image: R) {
  return z
    .object({
      image,
      mask: image.optional(),
      mask_from: z
        .enum(["mask", "alpha"])
        .default("mask")
        .describe('"alpha" takes the mask from the image\'s alpha channel (generate where alpha < 128) and then takes no mask'),
      grow: z
        .number()
        .int()
        .min(0)
        .max(L.maxMaskGrowPixels)
        .default(0)
        .describe("pixels the mask is dilated by (elliptic kernel) before anything else"),
      feather: z
        .number()
        .int()
        .min(0)
        .max(L.maxMaskFeatherPixels)
        .default(8)
        .describe("width in pixels of the blended seam when keep_unmasked; the unmasked pixels stay exact"),
      strength: z.number().min(0).max(L.maxStrength).default(INPAINT_DEFAULT_STRENGTH).describe("the inpaint ControlNet's scale"),
      keep_unmasked: z
        .boolean()
        .default(true)
        .describe("paste the input's unmasked pixels back over the output, blended over the feathered seam"),
    })
    .strict()
    .superRefine((v, ctx) => {
      if (v.mask_from === "mask" && v.mask === undefined)
        ctx.addIssue({ code: "custom", path: ["mask"], message: 'a mask is required unless mask_from is "alpha"' });
      if (v.mask_from === "alpha" && v.mask !== undefined)
        ctx.addIssue({ code: "custom", path: ["mask"], message: 'mask_from "alpha" takes the mask from the image: send no mask' });
    })
    .meta({
      description:
        "Keep a product and generate around it (EcomXL Inpaint ControlNet). image: the product or scene photo; mask: white (luma >= 128) where new pixels are generated, the same size as image, required unless mask_from is alpha.",
      // The refinement's rule, stated in JSON Schema too, so the document's readers and generators know it.
      anyOf: [
        { properties: { mask_from: { const: "mask" } }, required: ["mask"] },
        { properties: { mask_from: { const: "alpha" } }, required: ["mask_from"], not: { required: ["mask"] } },
      ],
    });
}

/** Following a composition's soft edges (EcomXL Softedge ControlNet). */
function softedgeInputFor<R extends z.ZodType, D extends z.ZodType = typeof EdgeDetector>(
  image: R,
  detectors: D = EdgeDetector as unknown as D,
) {
  return z
    .object({
      image: image.optional(),
      edge_map: image.optional(),
      detector: detectors.optional().describe(`the edge detector run on image (default ${DEFAULT_EDGE_DETECTOR}); not with edge_map`),
      strength: z.number().min(0).max(L.maxStrength).default(SOFTEDGE_DEFAULT_STRENGTH).describe("the softedge ControlNet's scale"),
    })
    .strict()
    .superRefine((v, ctx) => {
      if ((v.image === undefined) === (v.edge_map === undefined))
        ctx.addIssue({
          code: "custom",
          path: [],
          message: "give exactly one of image (a photo to detect edges in) or edge_map (used as is)",
        });
      if (v.edge_map !== undefined && v.detector !== undefined)
        ctx.addIssue({ code: "custom", path: ["detector"], message: "a detector applies to image only: an edge_map is used as is" });
    })
    .meta({
      description:
        "Follow a composition (EcomXL Softedge ControlNet): exactly one of image (a photo; its soft edges are detected) or edge_map (white edges on black, used as is, resized to the output).",
      anyOf: [
        { required: ["image"], not: { required: ["edge_map"] } },
        { required: ["edge_map"], not: { anyOf: [{ required: ["image"] }, { required: ["detector"] }] } },
      ],
    });
}

export const InpaintInput = inpaintInputFor(ImageRef).meta({ id: "InpaintInput" });
export type InpaintInput = z.infer<typeof InpaintInput>;
export const SoftedgeInput = softedgeInputFor(ImageRef).meta({ id: "SoftedgeInput" });
export type SoftedgeInput = z.infer<typeof SoftedgeInput>;

/** An output side: stated as JSON Schema's multipleOf, so the document says what the API checks. */
const side = (name: string, min: number = L.minSide, max: number = L.maxSide, multiple = 8) =>
  z.number().int().min(min).max(max).multipleOf(multiple, `${name} must be a multiple of ${multiple}`);

/**
 * Width and height have no default a JSON Schema can state: without an inpaint image it is
 * the model's (GET /v1/models), with one it is that image's side, so they are optional and
 * the edge resolves them (defaultOutputSize, output-size.ts); the job shows the size used.
 */
const SIZE_DEFAULT =
  "default: the inpaint image's, rounded to the nearest multiple of the model's side_multiple and brought within its limits; without inpaint, the model's default (GET /v1/models)";

/**
 * The parameters of one generation, as fields: the GPU protocol's job spec reuses them
 * with the images resolved. Defaults follow EcomID's shipped workflow (fidelity,
 * identity 0.3, IdentityNet 0.8, 25 steps, CFG 3.5, dpm_2 + Karras, 1024x1024).
 */
export const JobInputFields = z.object({
  reference_images: z.array(ImageRef).min(1).max(L.maxReferenceImages),
  prompt: z.string().max(L.maxPromptChars).regex(NOT_BLANK, "the prompt is blank").trim(),
  negative_prompt: z.string().max(L.maxPromptChars).default(""),
  keypoints: KeypointControl.optional().describe(KEYPOINTS_DEFAULT),
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
  width: side("width").optional().describe(SIZE_DEFAULT),
  height: side("height").optional().describe(SIZE_DEFAULT),
  num_outputs: z.number().int().min(1).max(L.maxOutputs).default(1),
  output_format: OutputFormat.default("webp"),
  output_quality: z.number().int().min(1).max(100).default(90),
  return_intermediates: z.array(Intermediate).max(Intermediate.options.length).default([]),
  inpaint: InpaintInput.optional(),
  softedge: SoftedgeInput.optional(),
  provenance: ProvenanceRequest.default({ embed: DEFAULT_PROVENANCE_EMBED, include_prompt: false }),
});

export interface SizeIssue {
  path: (string | number)[];
  message: string;
}

/** The output size's rules JSON Schema cannot state: the pixel budget, and keypoints inside the image. */
export function outputSizeIssues(
  v: { width: number; height: number; keypoints: { type: string; points?: [number, number][] } },
  maxPixels: number,
): SizeIssue[] {
  const issues: SizeIssue[] = [];
  if (v.width * v.height > maxPixels) issues.push({ path: ["width"], message: `width x height must be at most ${maxPixels} pixels` });
  if (v.keypoints.type === "points") {
    (v.keypoints.points ?? []).forEach(([x, y], i) => {
      if (x < 0 || y < 0 || x >= v.width || y >= v.height) {
        issues.push({
          path: ["keypoints", "points", i],
          message: `keypoint (${x}, ${y}) lies outside the ${v.width}x${v.height} output image`,
        });
      }
    });
  }
  return issues;
}

/** refineJobInput's intermediates rule in JSON Schema: an intermediate listed needs the input it shows. */
const INTERMEDIATES_NEED_THEIR_INPUT = {
  allOf: (
    [
      ["edge_map", "softedge"],
      ["inpaint_mask", "inpaint"],
    ] as const
  )
    .map(([kind, field]) => ({
      if: { properties: { return_intermediates: { contains: { const: kind } } }, required: ["return_intermediates"] },
      then: { required: [field] },
    }))
    .concat([
      {
        if: { properties: { keypoints: { properties: { type: { const: "inpaint_image" } } } }, required: ["keypoints"] },
        then: { required: ["inpaint"] },
      },
    ] as never[]),
};

type RefinedFields = {
  width?: number | undefined;
  height?: number | undefined;
  keypoints?: { type: string; points?: [number, number][] } | undefined;
  return_intermediates: Intermediate[];
  inpaint?: unknown;
  softedge?: unknown;
};

/**
 * The rules between fields that JSON Schema cannot state: the output size's (once both
 * sides are known; a size taken from the inpaint image is checked when the edge has read
 * it), and intermediates that need their ControlNet's input.
 */
function refineJobInput(maxPixels: number) {
  return (v: RefinedFields, ctx: z.core.$RefinementCtx) => {
    if (v.width !== undefined && v.height !== undefined) {
      const keypoints = v.keypoints ?? { type: "reference" };
      for (const issue of outputSizeIssues({ width: v.width, height: v.height, keypoints }, maxPixels))
        ctx.addIssue({ code: "custom", ...issue });
    }
    if (v.keypoints?.type === "inpaint_image" && v.inpaint === undefined)
      ctx.addIssue({ code: "custom", path: ["keypoints", "type"], message: "inpaint_image keypoints need an inpaint input" });
    const needs: Partial<Record<Intermediate, "inpaint" | "softedge">> = { edge_map: "softedge", inpaint_mask: "inpaint" };
    v.return_intermediates.forEach((kind, i) => {
      const field = needs[kind];
      if (field && v[field] === undefined)
        ctx.addIssue({ code: "custom", path: ["return_intermediates", i], message: `${kind} needs a ${field} input` });
    });
  };
}

export const JobInput = JobInputFields.strict()
  .superRefine(refineJobInput(L.maxOutputPixels))
  .meta({ id: "JobInput", ...INTERMEDIATES_NEED_THEIR_INPUT });
export type JobInput = z.infer<typeof JobInput>;

/** A job's input as it runs: every default filled in, the output size and keypoints resolved (the job shows this). */
export const ResolvedJobInput = JobInputFields.extend({ width: side("width"), height: side("height"), keypoints: KeypointControl }).meta({
  id: "ResolvedJobInput",
  description: "The job's input with every default filled in, the output size as used.",
});
export type ResolvedJobInput = z.infer<typeof ResolvedJobInput>;

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

const CreateJobRequestFields = {
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
};

export const CreateJobRequest = z
  .object({
    model: z.string().min(1).max(100).default("ecomid-sdxl"),
    input: JobInput,
    ...CreateJobRequestFields,
  })
  .strict()
  .meta({ id: "CreateJobRequest" });
export type CreateJobRequest = z.infer<typeof CreateJobRequest>;

/** An image the edge fetches itself: an earlier upload or an https URL (what a JSON body can carry). */
export const RemoteImageRef = z
  .union([ImageRef.options[0], ImageRef.options[1]])
  .meta({ id: "RemoteImageRef", description: "Exactly one of upload_id or url (https)." });

/**
 * How a request gives its images: "json" (upload ids and URLs only: a JSON body has no
 * parts), "parts" (also `{file}` naming any part of the multipart body), or one part
 * name (the document's multipart form, whose one file part is named so).
 */
export type ImageSource = "json" | "parts" | { part: string };

function imageRefFor(source: ImageSource) {
  if (source === "json") return RemoteImageRef;
  if (source === "parts") return ImageRef;
  return z.object({ file: z.literal(source.part).describe("the multipart part holding the image") }).strict();
}

function keypointControlFor(source: ImageSource) {
  // A pose or keypoint image names no part in the document's form: its one part is the face.
  const image = source === "parts" ? ImageRef : RemoteImageRef;
  return z.discriminatedUnion("type", [
    KeypointControl.options[0],
    z
      .object({ type: z.literal("pose_image"), image })
      .strict()
      .describe(KeypointControl.options[1].description ?? ""),
    KeypointControl.options[2],
    z
      .object({ type: z.literal("keypoint_image"), image })
      .strict()
      .describe(KeypointControl.options[3].description ?? ""),
    KeypointControl.options[4],
  ]);
}

/**
 * The job request one deployment accepts: only the models it serves (the first is the
 * default), and when it serves one model, that model's own limits and defaults as
 * bounds the document states (sides and their multiple, steps, samplers). Validation and
 * the OpenAPI document both use it, so what the document offers is what is accepted.
 */
export function createJobRequestFor(models: readonly Model[], images: ImageSource) {
  const ids = models.map((m) => m.id) as [string, ...string[]];
  const fallback = ids.includes("ecomid-sdxl") ? "ecomid-sdxl" : ids[0];
  const ref = imageRefFor(images);
  // Like pose images, inpaint and softedge images name no part in the document's form: its one part is the face.
  const extra = images === "parts" ? ImageRef : RemoteImageRef;
  const common = {
    reference_images: z.array(ref).min(1).max(L.maxReferenceImages),
    keypoints: keypointControlFor(images).optional().describe(KEYPOINTS_DEFAULT),
    inpaint: inpaintInputFor(extra).optional(),
    softedge: softedgeInputFor(extra).optional(),
  };
  const only = models.length === 1 ? models[0]! : null;
  const input = only
    ? JobInputFields.omit(absentCapabilities(only))
        .extend({
          reference_images: common.reference_images,
          keypoints: common.keypoints,
          ...modelFields(only),
          ...capabilityFields(only, extra),
        })
        .strict()
        .superRefine(refineJobInput(only.limits.max_pixels))
        .meta(INTERMEDIATES_NEED_THEIR_INPUT)
    : JobInputFields.extend(common).strict().superRefine(refineJobInput(L.maxOutputPixels)).meta(INTERMEDIATES_NEED_THEIR_INPUT);
  return z
    .object({
      model: z.enum(ids).default(fallback).describe("a model this deployment serves (GET /v1/models)"),
      input,
      ...CreateJobRequestFields,
    })
    .strict();
}

/** The inputs one model's bundle cannot run: the document of a deployment serving only it does not offer them. */
function absentCapabilities(m: Model): { inpaint?: true; softedge?: true } {
  const has = (name: ControlNetName) => m.capabilities.controlnets.includes(name);
  return { ...(has("inpaint") ? {} : { inpaint: true as const }), ...(has("softedge") ? {} : { softedge: true as const }) };
}

/** The ControlNet inputs one model offers, its edge detectors only. */
function capabilityFields(m: Model, image: z.ZodType) {
  const caps = m.capabilities;
  const detectors = caps.edge_detectors.length ? z.enum(caps.edge_detectors as [EdgeDetector, ...EdgeDetector[]]) : z.never();
  return {
    ...(caps.controlnets.includes("inpaint") ? { inpaint: inpaintInputFor(image).optional() } : {}),
    ...(caps.controlnets.includes("softedge") ? { softedge: softedgeInputFor(image, detectors).optional() } : {}),
  };
}

/** A model's limits and defaults as field bounds (a model narrows the API's). */
function modelFields(m: Model) {
  const l = m.limits;
  const d = m.defaults as Partial<
    Record<"width" | "height" | "steps" | "sampler" | "guidance" | "identity_strength" | "structure_strength" | "id_mode", unknown>
  >;
  const sampler = z.enum(l.samplers as [Sampler, ...Sampler[]]);
  const sizeDefault = (name: "width" | "height") =>
    SIZE_DEFAULT.replace("the model's default (GET /v1/models)", String(Number(d[name] ?? 1024)));
  return {
    width: side("width", l.min_side, l.max_side, l.side_multiple).optional().describe(sizeDefault("width")),
    height: side("height", l.min_side, l.max_side, l.side_multiple).optional().describe(sizeDefault("height")),
    steps: z
      .number()
      .int()
      .min(1)
      .max(l.max_steps)
      .default(Number(d.steps ?? 25)),
    sampler: sampler.default((d.sampler as Sampler | undefined) ?? l.samplers[0]!),
    guidance: z
      .number()
      .min(1)
      .max(L.maxGuidance)
      .default(Number(d.guidance ?? 3.5)),
    identity_strength: z
      .number()
      .min(0)
      .max(L.maxStrength)
      .default(Number(d.identity_strength ?? 0.3)),
    structure_strength: z
      .number()
      .min(0)
      .max(L.maxStrength)
      .default(Number(d.structure_strength ?? 0.8)),
    id_mode: IdMode.default((d.id_mode as z.infer<typeof IdMode> | undefined) ?? "fidelity"),
  };
}
