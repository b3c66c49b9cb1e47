import type { FaceDetection } from "@ecomid/shared/api";
import { OUTPUT_CONTENT_TYPES } from "@ecomid/shared/api";
import type { GpuJobSpec, GpuProvenanceReport } from "@ecomid/shared/protocol";
import { controlImageTensor, Denoiser } from "../models/denoiser.js";
import { FaceAnalysis, FaceNotDetectedError, type FaceAnalysisResult } from "../models/face-analysis.js";
import { IdentityEncoder } from "../models/identity-encoder.js";
import { SdxlTextEncoder, timeIds } from "../models/text-encoder.js";
import { decodeLatents } from "../models/vae-decoder.js";
import { keepUnmasked } from "../preprocess/keep-unmasked.js";
import { keypointHint, type KeypointSource } from "../preprocess/keypoint-hint.js";
import { keypointStyle } from "../preprocess/keypoint-style.js";
import type { Face } from "../preprocess/scrfd-decode.js";
import type { ModelBundle } from "../runtime/bundle.js";
import { decodeImage, encodeImage, type RgbImage } from "../runtime/image.js";
import { SOFTWARE_AGENT } from "../runtime/version.js";
import {
  createSchedule,
  currentTimestep,
  initialNoise,
  isFinished,
  parseSchedulerConfig,
  scaleInitialNoise,
  scaleModelInput,
  seededNoiseSource,
  startSampling,
  step,
  type NoiseScheduleConfig,
} from "../schedulers/index.js";
import {
  denoiserVariants,
  inpaintMaskImage,
  NO_CONTROL_IMAGES,
  prepareControls,
  requireCapabilities,
  type ControlImageBytes,
  type PreparedControls,
} from "./control-inputs.js";
import { JobCanceled, JobFailure } from "./job-failure.js";
import { jobLabeller, type OutputLabelling } from "./output-provenance.js";
import { latentPreview } from "./preview.js";

export interface EcomidJob {
  /** Written into every output's XMP; the GPU function's own jobs (warm-up, rehearsals, tests) may leave it out. */
  jobId?: string;
  spec: GpuJobSpec;
  references: Uint8Array[];
  keypointImage: Uint8Array | null;
  /** The inpaint and softedge images a job with those inputs brings. */
  controlImages?: ControlImageBytes;
  intermediates: readonly string[];
  /** Parity tests: the initial noise of output 0, instead of the seeded one. */
  initialNoise?: Float32Array;
}

export interface PipelineHooks {
  /** `preview` renders a small image of the current latents on demand: callers rate-limit it. */
  onProgress?(stage: string, step: number, totalSteps: number, preview: (() => RgbImage) | null): void | Promise<void>;
  /** Parity tests: the latents after each model evaluation of output 0. */
  onLatents?(evaluationIndex: number, latents: Float32Array): void;
  isCanceled?(): boolean;
  deadlineMs?: number | null;
}

export interface EncodedOutput {
  index: number;
  seed: number;
  bytes: Uint8Array;
  contentType: string;
  width: number;
  height: number;
  identitySimilarity: number | null;
  rgb: RgbImage;
}

export interface PipelineResult {
  /** What every output was labelled with (spec.provenance), for the success report. */
  provenance: GpuProvenanceReport;
  outputs: EncodedOutput[];
  intermediates: Array<{ kind: string; bytes: Uint8Array; contentType: string; width: number; height: number }>;
  faces: FaceDetection[];
  chosenFace: number;
  stagesMs: Record<string, number>;
}

/**
 * EcomID on one model bundle: every component loaded once, then `run` per job.
 * The steps read top to bottom: images, faces, identity, keypoint hint, text,
 * denoising per output, decode, encode, identity similarity.
 */
export class EcomidPipeline {
  private constructor(
    private readonly bundle: ModelBundle,
    private readonly faces: FaceAnalysis,
    private readonly text: SdxlTextEncoder,
    private readonly identity: IdentityEncoder,
    private readonly scheduler: NoiseScheduleConfig,
    private readonly labelling: OutputLabelling,
  ) {}

  /**
   * `faces`: the bundle's own face analysis, unless a parity test brings one that reports the reference's detection.
   * `labelling`: the signer outputs are labelled with; without one, only jobs asking for "iptc" or "none" run.
   */
  static async load(bundle: ModelBundle, options: { faces?: FaceAnalysis; labelling?: OutputLabelling } = {}): Promise<EcomidPipeline> {
    const [analysis, text, identity] = await Promise.all([
      options.faces ?? FaceAnalysis.fromBundle(bundle),
      SdxlTextEncoder.fromBundle(bundle),
      IdentityEncoder.fromBundle(bundle),
    ]);
    await Promise.all([bundle.graph("denoiser"), bundle.graph("denoiser_no_control"), bundle.graph("vae_decoder")]);
    return new EcomidPipeline(
      bundle,
      analysis,
      text,
      identity,
      parseSchedulerConfig(bundle.manifest.scheduler),
      options.labelling ?? unsignedLabelling(),
    );
  }

  /** Whether jobs asking for a signed C2PA manifest can run here. */
  get signs(): boolean {
    return this.labelling.signer !== null;
  }

  async run(job: EcomidJob, hooks: PipelineHooks = {}): Promise<PipelineResult> {
    const spec = job.spec;
    const stagesMs: Record<string, number> = {};
    const timed = async <T>(stage: string, fn: () => Promise<T>): Promise<T> => {
      this.checkpoint(hooks);
      await hooks.onProgress?.(stage, 0, 0, null);
      const t0 = performance.now();
      try {
        return await fn();
      } finally {
        stagesMs[stage] = (stagesMs[stage] ?? 0) + Math.round(performance.now() - t0);
      }
    };

    // 1. Check what the edge cannot: the bundle's own limits and ControlNets, and a signer for a c2pa+iptc job.
    this.checkSpec(spec);
    requireCapabilities(spec, this.bundle);
    const labeller = jobLabeller(spec, this.labelling, `${this.bundle.manifest.id}@${this.bundle.manifest.version}`, job.jobId ?? "local");

    // 2. Images in.
    const references = await timed("decode", () => Promise.all(job.references.map((b) => decodeImage(b))));

    // 3. Faces: one detection per reference drives every branch.
    const analyses = await timed("faces", async () => {
      const first = await this.faces.analyse(references[0]!, spec.face_index !== undefined ? { faceIndex: spec.face_index } : {});
      const rest = await Promise.all(references.slice(1).map((r) => this.faces.analyse(r)));
      return [first, ...rest];
    });
    const main = analyses[0]!;

    // 3b. The inpaint and softedge conditions at the output size (masks checked, edges detected).
    const controls = await timed("controls", () => prepareControls(spec, job.controlImages ?? NO_CONTROL_IMAGES, this.bundle));

    // 4. Identity: PuLID ID tokens and Resampler tokens, averaged over references.
    const identity = await timed("identity", () =>
      this.identity.encode(
        analyses.map((a) => ({ ffhqCrop: a.ffhq.image.data, arcfaceEmbedding: a.embedding })),
        { idNoise: spec.id_noise, seed: spec.seed },
      ),
    );

    // 5. The keypoint hint for IdentityNet.
    const { keypointImage, hint } = await timed("keypoints", async () =>
      keypointHint(
        await this.keypointSource(job, references[0]!, main, controls),
        spec.width,
        spec.height,
        keypointStyle(this.bundle.manifest),
      ),
    );

    // 6. Text.
    const text = await timed("text", () => this.text.encode({ prompt: spec.prompt, negativePrompt: spec.negative_prompt }));

    // 7. Denoise and decode each output.
    const denoiser = await Denoiser.prepare(
      this.bundle,
      {
        encoderHiddenStates: text.encoderHiddenStates,
        textEmbeds: text.textEmbeds,
        timeIds: timeIds(spec.height, spec.width),
        idTokens: identity.idTokens,
        faceTokens: identity.faceTokens,
        controlImage: controlImageTensor(hint.data, hint.width, hint.height),
        idWeight: spec.identity_strength,
        idMode: spec.id_mode,
        cnScale: spec.structure_strength,
        guidance: spec.guidance,
        ...(controls.inpaint ? { inpaint: { image: controls.inpaint.condition, scale: controls.inpaint.strength } } : {}),
        ...(controls.softedge ? { softedge: { image: controls.softedge.tensor, scale: controls.softedge.strength } } : {}),
      },
      denoiserVariants(this.bundle),
    );
    const outputs: EncodedOutput[] = [];
    for (let index = 0; index < spec.num_outputs; index++) {
      const seed = (spec.seed + index) % 2 ** 32;
      const latents = await this.denoise(denoiser, spec, seed, index === 0 ? job.initialNoise : undefined, hooks, stagesMs, index);
      const latentDims = [1, 4, spec.height / 8, spec.width / 8];
      const t0 = performance.now();
      const { rgb, width, height } = await decodeLatents(this.bundle, latents, latentDims);
      stagesMs.vae = (stagesMs.vae ?? 0) + Math.round(performance.now() - t0);
      const generated = { width, height, data: rgb };
      // keep_unmasked: the product photo's own pixels wherever the mask keeps them (the model card's add_fg).
      const weights = controls.inpaint?.weights;
      const image = controls.inpaint && weights ? keepUnmasked(generated, controls.inpaint.image, weights) : generated;
      const encoded = await timed("encode", () => encodeImage(image, spec.output_format, { quality: spec.output_quality }));
      // The label goes into the encoded file as it is: the pixels are not encoded again (provenance/README.md).
      const bytes = await timed("provenance", () => labeller.label(encoded, spec.output_format));
      const similarity = await timed("similarity", () => this.identitySimilarity(image, main.embedding));
      outputs.push({
        index,
        seed,
        bytes,
        contentType: OUTPUT_CONTENT_TYPES[spec.output_format],
        width,
        height,
        identitySimilarity: similarity,
        rgb: image,
      });
    }

    // 8. Intermediates the job asked for.
    const wanted: Record<string, RgbImage> = {
      keypoint_image: keypointImage,
      arcface_crop: main.arcface.image,
      ffhq_crop: main.ffhq.image,
      ...(controls.softedge ? { edge_map: controls.softedge.edgeMap } : {}),
      ...(controls.inpaint ? { inpaint_mask: inpaintMaskImage(controls.inpaint) } : {}),
    };
    const intermediates = [];
    for (const kind of job.intermediates) {
      const img = wanted[kind];
      if (img)
        intermediates.push({ kind, bytes: await encodeImage(img, "png"), contentType: "image/png", width: img.width, height: img.height });
    }
    return {
      provenance: labeller.report,
      outputs,
      intermediates,
      faces: main.faces.map(toFaceDetection),
      chosenFace: main.chosen,
      stagesMs,
    };
  }

  private async denoise(
    denoiser: Denoiser,
    spec: GpuJobSpec,
    seed: number,
    explicitNoise: Float32Array | undefined,
    hooks: PipelineHooks,
    stagesMs: Record<string, number>,
    outputIndex: number,
  ): Promise<Float32Array> {
    const dims = [1, 4, spec.height / 8, spec.width / 8];
    const count = dims.reduce((a, b) => a * b, 1);
    const schedule = createSchedule(spec.sampler, spec.steps, this.scheduler);
    const noise = explicitNoise ?? initialNoise(seed, count);
    const ancestral = seededNoiseSource(seed);
    let state = startSampling(schedule);
    let latents = scaleInitialNoise(noise, schedule);
    const total = schedule.timesteps.length;
    while (!isFinished(state)) {
      this.checkpoint(hooks);
      const t0 = performance.now();
      const eps = await denoiser.predict(scaleModelInput(state, latents), dims, currentTimestep(state));
      const next = step(state, eps, latents, ancestral);
      latents = next.prevSample;
      state = next.state;
      stagesMs.denoise = (stagesMs.denoise ?? 0) + Math.round(performance.now() - t0);
      if (outputIndex === 0) hooks.onLatents?.(state.evaluationIndex - 1, latents);
      const current = latents;
      await hooks.onProgress?.("denoising", state.evaluationIndex, total, () => latentPreview(current, dims[3]!, dims[2]!));
    }
    return latents;
  }

  private async keypointSource(
    job: EcomidJob,
    reference: RgbImage,
    main: FaceAnalysisResult,
    controls: PreparedControls,
  ): Promise<KeypointSource> {
    const kp = job.spec.keypoints;
    if (kp.type === "points") return { kind: "points", keypoints: kp.points };
    if (kp.type === "inpaint_image") {
      // The largest face of the inpaint image, already at the output size, so its keypoints are output pixels;
      // an image without a face (a product alone) places the reference's face as for "reference".
      const scene = controls.inpaint ? await this.faces.poseSource(controls.inpaint.image) : null;
      if (scene?.source.kind === "face") return { kind: "points", keypoints: scene.source.keypoints };
      return { kind: "face", keypoints: main.face.keypoints, width: reference.width, height: reference.height };
    }
    if (kp.type === "reference") return { kind: "face", keypoints: main.face.keypoints, width: reference.width, height: reference.height };
    if (!job.keypointImage) throw new JobFailure("input_fetch_failed", `the ${kp.type} was not provided`, { retryable: true });
    const image = await decodeImage(job.keypointImage);
    if (kp.type === "keypoint_image") return { kind: "image", image };
    // A pose image: its largest face's keypoints, or, without a face, the image itself as the hint, as EcomID's
    // node does (so a pre-drawn keypoint image sent as a pose image still works).
    return (await this.faces.poseSource(image)).source;
  }

  /** ArcFace cosine between the largest face of the output and the reference; null without a face. */
  private async identitySimilarity(image: RgbImage, reference: Float32Array): Promise<number | null> {
    try {
      return cosine((await this.faces.analyse(image)).embedding, reference);
    } catch (e) {
      if (e instanceof FaceNotDetectedError) return null;
      throw e;
    }
  }

  private checkSpec(spec: GpuJobSpec): void {
    const limits = this.bundle.manifest.limits;
    if (!limits.samplers.includes(spec.sampler))
      throw new JobFailure("parameter_out_of_range", `this bundle does not offer the ${spec.sampler} sampler`);
    if (spec.width % limits.side_multiple || spec.height % limits.side_multiple) {
      throw new JobFailure("parameter_out_of_range", `this bundle takes width and height in multiples of ${limits.side_multiple}`);
    }
    if (Math.max(spec.width, spec.height) > limits.max_side || Math.min(spec.width, spec.height) < limits.min_side) {
      throw new JobFailure("parameter_out_of_range", `this bundle takes sides from ${limits.min_side} to ${limits.max_side}`);
    }
    if (spec.steps > limits.max_steps)
      throw new JobFailure("parameter_out_of_range", `this bundle takes at most ${limits.max_steps} steps`);
  }

  private checkpoint(hooks: PipelineHooks): void {
    if (hooks.isCanceled?.()) throw new JobCanceled("canceled");
    if (hooks.deadlineMs && Date.now() > hooks.deadlineMs)
      throw new JobFailure("deadline_exceeded", "the job's deadline passed while it ran");
  }
}

/** No signer: for the GPU function's own jobs and tests that do not label; a worker passes its configured one. */
function unsignedLabelling(): OutputLabelling {
  return { signer: null, developmentCertificate: false, softwareAgent: SOFTWARE_AGENT };
}

function toFaceDetection(f: Face): FaceDetection {
  return {
    box: [f.box.x1, f.box.y1, f.box.x2, f.box.y2],
    score: f.box.score,
    keypoints: f.keypoints.map(([x, y]) => [x, y] as [number, number]),
  };
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb || 1);
}
