import { z } from "zod";

/**
 * The model-bundle manifest: `manifest.json` at the root of a bundle folder.
 * Written by `infra/export` (Python, validated there against the JSON Schema
 * exported from this file) and read by the GPU function, which refuses a
 * bundle whose files do not match it (see verify-bundle.ts).
 *
 * JSON keys are snake_case, like the public API's JSON.
 */

/** Relative POSIX path inside the bundle; never absolute, never leaving it. */
export const BundlePath = z
  .string()
  .min(1)
  .max(300)
  .regex(/^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._\/-]+$/, "a relative path inside the bundle")
  .meta({ id: "BundlePath" });

export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "64 lowercase hex digits");

export const BundleFile = z
  .object({
    path: BundlePath,
    sha256: Sha256,
    bytes: z.number().int().nonnegative(),
  })
  .strict()
  .meta({ id: "BundleFile" });
export type BundleFile = z.infer<typeof BundleFile>;

/** A fixed size, or a symbolic name ("batch", "height") shared across tensors. */
export const Dim = z.union([z.number().int().positive(), z.string().regex(/^[a-z_][a-z0-9_]*$/, "a symbolic dimension name")]);

export const TensorDtype = z.enum(["float32", "float16", "int64", "int32", "uint8", "bool"]);
export type TensorDtype = z.infer<typeof TensorDtype>;

export const TensorSpec = z
  .object({ name: z.string().min(1), shape: z.array(Dim), dtype: TensorDtype })
  .strict()
  .meta({ id: "BundleTensorSpec" });
export type TensorSpec = z.infer<typeof TensorSpec>;

export const GraphSpec = z
  .object({
    file: BundlePath,
    /** ONNX external-data files the graph loads beside itself (large graphs). */
    external_data: z.array(BundlePath),
    inputs: z.array(TensorSpec).min(1),
    outputs: z.array(TensorSpec).min(1),
    /** Weight precision; "mixed" = fp16 with fp32 islands (softmaxes, the ID attention's projections). */
    precision: z.enum(["float32", "float16", "mixed"]),
    opset: z.number().int().positive(),
    /** Keys into `licences` for the weights inside this graph. */
    sources: z.array(z.string().min(1)).min(1),
    notes: z.string().optional(),
  })
  .strict()
  .meta({ id: "BundleGraphSpec" });
export type GraphSpec = z.infer<typeof GraphSpec>;

/** Every graph the GPU function runs; a bundle carries all of them. */
export const BundleGraphs = z
  .object({
    scrfd: GraphSpec,
    arcface: GraphSpec,
    id_prep: GraphSpec,
    id_encoder: GraphSpec,
    resampler: GraphSpec,
    clip_l: GraphSpec,
    clip_g: GraphSpec,
    denoiser: GraphSpec,
    denoiser_no_control: GraphSpec,
    vae_decoder: GraphSpec,
    /** Denoiser variants with EcomXL ControlNets beside IdentityNet (see `denoiser_variants`). */
    denoiser_inpaint: GraphSpec.optional(),
    denoiser_softedge: GraphSpec.optional(),
    denoiser_inpaint_softedge: GraphSpec.optional(),
    /** Soft-edge detectors (see `edge_detectors`). */
    pidinet: GraphSpec.optional(),
    hed: GraphSpec.optional(),
  })
  .strict()
  .meta({ id: "BundleGraphs" });

export const DenoiserGraphName = z.enum([
  "denoiser",
  "denoiser_no_control",
  "denoiser_inpaint",
  "denoiser_softedge",
  "denoiser_inpaint_softedge",
]);
export type DenoiserGraphName = z.infer<typeof DenoiserGraphName>;

export const ControlNetName = z.enum(["identitynet", "inpaint", "softedge"]);
export type ControlNetName = z.infer<typeof ControlNetName>;

/** A ControlNet beyond IdentityNet: where its weights come from and what its condition image is. */
export const ExtraControlNet = z
  .object({
    /** Key into `licences`. */
    source: z.string().min(1),
    /** The denoiser input that takes the condition, and the one that takes its per-row strength. */
    image_input: z.string().min(1),
    scale_input: z.string().min(1),
    /** How the condition is made (RGB/255, masked pixels, resizing), for people; the pipeline follows the contract. */
    conditioning: z.string().min(1),
    /** Range of the condition's values; the inpaint condition sets masked pixels to -1. */
    value_range: z.tuple([z.number(), z.number()]),
  })
  .strict()
  .meta({ id: "BundleExtraControlNet" });
export type ExtraControlNet = z.infer<typeof ExtraControlNet>;

export const ExtraControlNets = z
  .object({ inpaint: ExtraControlNet.optional(), softedge: ExtraControlNet.optional() })
  .strict()
  .meta({ id: "BundleControlNets" });

/**
 * One denoiser graph and the ControlNets it runs. The pipeline picks the variant with the smallest set covering
 * the ControlNets a step uses (strength > 0) and feeds a zero image and scale 0 to those of the variant it does
 * not use. Bundles without this section have the two historical variants (DEFAULT_DENOISER_VARIANTS).
 */
export const DenoiserVariant = z
  .object({ graph: DenoiserGraphName, controlnets: z.array(ControlNetName) })
  .strict()
  .meta({ id: "BundleDenoiserVariant" });
export type DenoiserVariant = z.infer<typeof DenoiserVariant>;

export const DEFAULT_DENOISER_VARIANTS: DenoiserVariant[] = [
  { graph: "denoiser_no_control", controlnets: [] },
  { graph: "denoiser", controlnets: ["identitynet"] },
];

/** A soft-edge detector graph: input `image` [1,3,H,W] RGB in [0,1], output `edge` [1,1,H,W] in [0,1]. */
export const EdgeDetector = z
  .object({ graph: z.enum(["pidinet", "hed"]), source: z.string().min(1), notes: z.string().optional() })
  .strict()
  .meta({ id: "BundleEdgeDetector" });

export const EdgeDetectors = z
  .object({ pidinet: EdgeDetector.optional(), hed: EdgeDetector.optional() })
  .strict()
  .meta({ id: "BundleEdgeDetectors" });
export type GraphName = keyof z.infer<typeof BundleGraphs>;

const Rgb = z.tuple([z.number(), z.number(), z.number()]);
const Point = z.tuple([z.number(), z.number()]);
const FivePoints = z.tuple([Point, Point, Point, Point, Point]);
const Probability = z.number().min(0).max(1);

export const Preprocessing = z
  .object({
    scrfd: z
      .object({
        det_sizes: z.array(z.number().int().positive()).min(1),
        input_mean: z.number(),
        input_std: z.number().positive(),
        score_threshold: Probability,
        nms_threshold: Probability,
        strides: z.array(z.number().int().positive()).min(1),
        anchors_per_cell: z.number().int().positive(),
      })
      .strict(),
    arcface: z
      .object({
        size: z.number().int().positive(),
        template: FivePoints,
        input_mean: z.number(),
        input_std: z.number().positive(),
      })
      .strict(),
    ffhq: z.object({ size: z.number().int().positive(), template: FivePoints, border_bgr: Rgb }).strict(),
    id_prep: z
      .object({
        input_size: z.number().int().positive(),
        output_size: z.number().int().positive(),
        parsing_mean: Rgb,
        parsing_std: Rgb,
        clip_mean: Rgb,
        clip_std: Rgb,
        white_labels: z.array(z.number().int().nonnegative()),
      })
      .strict(),
    keypoints: z
      .object({
        colors: z.array(Rgb).length(5),
        circle_radius: z.number().int().positive(),
        stick_width: z.number().int().positive(),
        stick_dim: Probability,
      })
      .strict(),
    vae: z.object({ scaling_factor: z.number().positive() }).strict(),
    id_noise_scale: z
      .object({ id_encoder: z.number().nonnegative(), resampler: z.number().nonnegative() })
      .strict()
      .describe("U(0,1) * noise * scale replaces the zero uncond inputs when noise > 0"),
  })
  .strict()
  .meta({ id: "BundlePreprocessing" });

/** Mirrors the public API's Sampler enum (shared/src/api/job-input.ts). */
export const BundleSampler = z.enum(["euler", "euler_ancestral", "dpmpp_2m_karras", "dpm_2_karras", "dpm_solver_trailing"]);
export const IdMode = z.enum(["fidelity", "style", "neutral"]);

export const Defaults = z
  .object({
    steps: z.number().int().positive(),
    guidance: z.number().nonnegative(),
    sampler: BundleSampler,
    identity_weight: z.number().nonnegative(),
    structure_strength: z.number().nonnegative(),
    id_mode: IdMode,
    width: z.number().int().positive(),
    height: z.number().int().positive(),
  })
  .strict()
  .meta({ id: "BundleDefaults" });

/** Same shape as the API's ModelLimits, so the edge can publish it as is. */
export const Limits = z
  .object({
    min_side: z.number().int().positive(),
    max_side: z.number().int().positive(),
    max_pixels: z.number().int().positive(),
    side_multiple: z.number().int().positive(),
    max_steps: z.number().int().positive(),
    samplers: z.array(BundleSampler).min(1),
  })
  .strict()
  .meta({ id: "BundleLimits" });

/** diffusers' scheduler config keys, snake_case as diffusers writes them. */
export const SchedulerConfig = z
  .object({
    num_train_timesteps: z.number().int().positive(),
    beta_start: z.number().positive(),
    beta_end: z.number().positive(),
    beta_schedule: z.enum(["scaled_linear", "linear"]),
    steps_offset: z.number().int().nonnegative(),
    prediction_type: z.enum(["epsilon", "v_prediction"]),
    timestep_spacing: z.enum(["leading", "trailing", "linspace"]),
  })
  .strict()
  .meta({ id: "BundleSchedulerConfig" });

export const TokenizerSpec = z
  .object({
    file: BundlePath,
    config_file: BundlePath,
    max_length: z.number().int().positive(),
    bos_token_id: z.number().int().nonnegative(),
    eos_token_id: z.number().int().nonnegative(),
    /** CLIP-L pads with EOS, OpenCLIP-bigG with "!" (id 0), as in SDXL. */
    pad_token_id: z.object({ clip_l: z.number().int(), clip_g: z.number().int() }).strict(),
  })
  .strict()
  .meta({ id: "BundleTokenizer" });

export const ConstantTensor = z
  .object({
    file: BundlePath,
    dtype: z.literal("float32"),
    shape: z.array(z.number().int().positive()),
    byte_order: z.literal("little"),
  })
  .strict()
  .meta({ id: "BundleConstantTensor" });

export const Constants = z
  .object({
    uncond_id_tokens: ConstantTensor,
    uncond_resampler_tokens: ConstantTensor,
  })
  .strict();

export const Licence = z
  .object({
    name: z.string().min(1),
    origin: z.string().min(1),
    licence: z.string().min(1),
    commercial_use: z.boolean(),
    note: z.string().optional(),
  })
  .strict()
  .meta({ id: "BundleLicence" });

/** Architecture facts the pipeline needs to build its inputs. */
export const ModelFacts = z
  .object({
    latent_channels: z.number().int().positive(),
    vae_scale_factor: z.number().int().positive(),
    cross_attention_dim: z.number().int().positive(),
    text_embeds_dim: z.number().int().positive(),
    id_tokens: z.number().int().positive(),
    id_padding_tokens: z.object({ fidelity: z.number().int(), style: z.number().int(), neutral: z.number().int() }).strict(),
    resampler_tokens: z.number().int().positive(),
    arcface_dim: z.number().int().positive(),
    id_attention_layers: z.number().int().nonnegative(),
  })
  .strict()
  .meta({ id: "BundleModelFacts" });

export const ModelBundleManifest = z
  .object({
    format_version: z.literal(1),
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/),
    version: z.string().min(1).max(100),
    description: z.string().min(1),
    /** true for the tiny random-weight bundle: it generates noise, never faces. */
    fixture: z.boolean(),
    created_by: z.string().min(1),
    graphs: BundleGraphs,
    model: ModelFacts,
    preprocessing: Preprocessing,
    defaults: Defaults,
    limits: Limits,
    scheduler: SchedulerConfig,
    tokenizer: TokenizerSpec,
    constants: Constants,
    /** Absent: IdentityNet only. */
    controlnets: ExtraControlNets.optional(),
    /** Absent: DEFAULT_DENOISER_VARIANTS. */
    denoiser_variants: z.array(DenoiserVariant).min(1).optional(),
    /** Absent: no detector, so softedge jobs need an edge map. */
    edge_detectors: EdgeDetectors.optional(),
    licences: z.record(z.string().min(1), Licence),
    /** Every file of the bundle except manifest.json itself. */
    files: z.array(BundleFile).min(1),
  })
  .strict()
  .superRefine(checkReferences)
  .meta({ id: "ModelBundleManifest" });
export type ModelBundleManifest = z.infer<typeof ModelBundleManifest>;

type ManifestShape = {
  graphs: Record<string, { file: string; external_data: string[]; sources: string[]; inputs: { name: string }[] } | undefined>;
  controlnets?: Record<string, { source: string; image_input: string; scale_input: string } | undefined>;
  denoiser_variants?: { graph: string; controlnets: string[] }[];
  edge_detectors?: Record<string, { graph: string; source: string } | undefined>;
  tokenizer: { file: string; config_file: string };
  constants: Record<string, { file: string }>;
  licences: Record<string, unknown>;
  files: { path: string }[];
  defaults: { width: number; height: number; steps: number; sampler: string };
  limits: { min_side: number; max_side: number; max_steps: number; samplers: string[] };
};

/** Cross-field checks JSON Schema cannot express; the Python side repeats them. */
function checkReferences(m: ManifestShape, ctx: z.RefinementCtx): void {
  const listed = new Set<string>();
  for (const f of m.files) {
    if (listed.has(f.path)) ctx.addIssue({ code: "custom", message: `file listed twice: ${f.path}`, path: ["files"] });
    listed.add(f.path);
  }
  const mustList = (path: string, where: (string | number)[]) => {
    if (!listed.has(path)) ctx.addIssue({ code: "custom", message: `${path} is not in files`, path: where });
  };
  for (const [name, g] of Object.entries(m.graphs)) {
    if (!g) continue;
    mustList(g.file, ["graphs", name, "file"]);
    g.external_data.forEach((p, i) => mustList(p, ["graphs", name, "external_data", i]));
    for (const s of g.sources) {
      if (!(s in m.licences)) ctx.addIssue({ code: "custom", message: `unknown licence source ${s}`, path: ["graphs", name, "sources"] });
    }
  }
  checkControlNets(m, ctx);
  mustList(m.tokenizer.file, ["tokenizer", "file"]);
  mustList(m.tokenizer.config_file, ["tokenizer", "config_file"]);
  for (const [name, c] of Object.entries(m.constants)) mustList(c.file, ["constants", name, "file"]);

  const { defaults: d, limits: l } = m;
  for (const side of ["width", "height"] as const) {
    if (d[side] < l.min_side || d[side] > l.max_side) {
      ctx.addIssue({ code: "custom", message: `default ${side} outside limits`, path: ["defaults", side] });
    }
  }
  if (d.steps > l.max_steps) ctx.addIssue({ code: "custom", message: "default steps above max_steps", path: ["defaults", "steps"] });
  if (!l.samplers.includes(d.sampler))
    ctx.addIssue({ code: "custom", message: "default sampler not in limits.samplers", path: ["defaults", "sampler"] });
}

/** Every variant's graph exists and takes each of its ControlNets' inputs; every declared ControlNet is run by some
 * variant; every detector's graph exists; every source has a licence. */
function checkControlNets(m: ManifestShape, ctx: z.RefinementCtx): void {
  const licensed = (source: string, path: (string | number)[]) => {
    if (!(source in m.licences)) ctx.addIssue({ code: "custom", message: `unknown licence source ${source}`, path });
  };
  for (const [name, c] of Object.entries(m.controlnets ?? {})) if (c) licensed(c.source, ["controlnets", name, "source"]);
  const run = new Set<string>();
  (m.denoiser_variants ?? []).forEach((v, i) => {
    const graph = m.graphs[v.graph];
    if (!graph) {
      ctx.addIssue({ code: "custom", message: `variant graph ${v.graph} is not in graphs`, path: ["denoiser_variants", i, "graph"] });
      return;
    }
    const inputs = new Set(graph.inputs.map((t) => t.name));
    for (const cn of v.controlnets) {
      run.add(cn);
      const wanted =
        cn === "identitynet" ? ["control_image", "cn_scale"] : [m.controlnets?.[cn]?.image_input, m.controlnets?.[cn]?.scale_input];
      if (wanted.some((input) => input === undefined || !inputs.has(input))) {
        ctx.addIssue({
          code: "custom",
          message: `${v.graph} lacks the inputs of ControlNet ${cn} (or controlnets.${cn} is missing)`,
          path: ["denoiser_variants", i, "controlnets"],
        });
      }
    }
  });
  for (const name of Object.keys(m.controlnets ?? {})) {
    if (!run.has(name))
      ctx.addIssue({ code: "custom", message: `no denoiser variant runs ControlNet ${name}`, path: ["controlnets", name] });
  }
  for (const [name, d] of Object.entries(m.edge_detectors ?? {})) {
    if (!d) continue;
    if (!m.graphs[d.graph])
      ctx.addIssue({ code: "custom", message: `detector graph ${d.graph} is not in graphs`, path: ["edge_detectors", name, "graph"] });
    licensed(d.source, ["edge_detectors", name, "source"]);
  }
}
