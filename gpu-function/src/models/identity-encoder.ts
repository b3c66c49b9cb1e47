import type { ModelBundle } from "../runtime/bundle.js";
import type { Graph } from "../runtime/onnx.js";
import { float32, type Tensor } from "../runtime/tensor.js";

/** What the encoder needs of a graph, so tests can pass fakes. */
export type RunnableGraph = Pick<Graph, "run">;

/** One reference image's identity inputs, both from the same face detection. */
export interface IdentityReference {
  /** The FFHQ-aligned face crop: RGB, HWC, uint8, size x size x 3 (512 x 512). */
  ffhqCrop: Uint8Array;
  /** The raw ArcFace embedding, 512 values: insightface's `embedding`, not `normed_embedding`, as PuLID feeds it. */
  arcfaceEmbedding: Float32Array;
}

export interface IdentityOptions {
  /**
   * Noise in the negative (uncond) identity inputs, as EcomID's `noise` (basic node 0.35).
   * 0 uses the bundle's precomputed uncond tokens as they are.
   */
  idNoise?: number;
  /**
   * Seed of the U(0,1) draws when idNoise > 0. Without one it is derived from the averaged
   * embedding, as InstantID_ComfyUI seeds from the embedding's sum: same faces, same noise.
   */
  seed?: number;
}

/** Identity conditioning, rows [cond, uncond] for classifier-free guidance. */
export interface IdentityConditioning {
  /** PuLID ID tokens [2, 10, D], unpadded: the denoiser appends its mode's zero tokens (padTokens). */
  idTokens: Tensor<Float32Array>;
  /** InstantID Resampler tokens [2, 16, D], IdentityNet's context. */
  faceTokens: Tensor<Float32Array>;
}

export interface IdentityEncoderSpec {
  cropSize: number;
  evaInputSize: number;
  arcfaceDim: number;
  /** manifest preprocessing.id_noise_scale: U(0,1) * noise * scale per graph. */
  noiseScale: { idEncoder: number; resampler: number };
}

export interface IdentityGraphs {
  idPrep: RunnableGraph;
  idEncoder: RunnableGraph;
  resampler: RunnableGraph;
}

/** The precomputed uncond tokens: the graphs' outputs for all-zero identity inputs (the uncond inputs at ID noise 0). */
export interface UncondTokens {
  idTokens: Tensor<Float32Array>;
  faceTokens: Tensor<Float32Array>;
}

/**
 * PuLID's ID tokens and InstantID's Resampler tokens from one or more reference faces.
 *
 * Several references follow the ComfyUI nodes EcomID builds on: PuLID_ComfyUI encodes each
 * image and averages the ID encoder's outputs, cond and uncond separately;
 * InstantID_ComfyUI averages the 512-d embeddings and runs the Resampler once.
 */
export class IdentityEncoder {
  constructor(
    private readonly graphs: IdentityGraphs,
    private readonly uncond: UncondTokens,
    readonly spec: IdentityEncoderSpec,
  ) {}

  static async fromBundle(bundle: ModelBundle): Promise<IdentityEncoder> {
    const m = bundle.manifest;
    const [idPrep, idEncoder, resampler, idTokens, faceTokens] = await Promise.all([
      bundle.graph("id_prep"),
      bundle.graph("id_encoder"),
      bundle.graph("resampler"),
      bundle.constant("uncond_id_tokens"),
      bundle.constant("uncond_resampler_tokens"),
    ]);
    return new IdentityEncoder(
      { idPrep, idEncoder, resampler },
      { idTokens, faceTokens },
      {
        cropSize: m.preprocessing.id_prep.input_size,
        evaInputSize: m.preprocessing.id_prep.output_size,
        arcfaceDim: m.model.arcface_dim,
        noiseScale: { idEncoder: m.preprocessing.id_noise_scale.id_encoder, resampler: m.preprocessing.id_noise_scale.resampler },
      },
    );
  }

  /**
   * @example const { idTokens, faceTokens } = await identity.encode([{ ffhqCrop, arcfaceEmbedding }], { idNoise: 0 });
   */
  async encode(references: readonly IdentityReference[], options: IdentityOptions = {}): Promise<IdentityConditioning> {
    const idNoise = options.idNoise ?? 0;
    this.check(references, idNoise);
    const embedding = mean(references.map((r) => r.arcfaceEmbedding));
    const random = idNoise > 0 ? uniformSource(options.seed ?? seedFrom(embedding)) : undefined;

    // 1. PuLID: per image id_prep -> id_encoder, cond and uncond averaged separately.
    const cond: Float32Array[] = [];
    const uncond: Float32Array[] = [];
    for (const ref of references) {
      cond.push(await this.idTokensOf(await this.evaInput(ref.ffhqCrop), ref.arcfaceEmbedding));
      if (random) uncond.push(await this.noisyIdTokens(random, idNoise));
    }
    const idTokens = stackRows(mean(cond), random ? mean(uncond) : this.uncond.idTokens.data, this.uncond.idTokens.dims);

    // 2. InstantID: the Resampler on the averaged embedding; uncond on zeros (the constant) or noise.
    const faceCond = await this.faceTokensOf(embedding);
    const faceUncond = random
      ? await this.faceTokensOf(scaledUniform(random, this.spec.arcfaceDim, idNoise * this.spec.noiseScale.resampler))
      : this.uncond.faceTokens.data;
    const faceTokens = stackRows(faceCond, faceUncond, this.uncond.faceTokens.dims);
    return { idTokens, faceTokens };
  }

  private check(references: readonly IdentityReference[], idNoise: number): void {
    if (references.length === 0) throw new RangeError("identity encoding needs at least one reference face");
    if (!Number.isFinite(idNoise) || idNoise < 0) throw new RangeError(`idNoise must be a finite number >= 0, got ${idNoise}`);
    const cropLength = this.spec.cropSize * this.spec.cropSize * 3;
    references.forEach((r, i) => {
      if (r.ffhqCrop.length !== cropLength)
        throw new RangeError(
          `reference ${i}: ffhqCrop has ${r.ffhqCrop.length} bytes, expected ${cropLength} (${this.spec.cropSize}x${this.spec.cropSize} RGB)`,
        );
      if (r.arcfaceEmbedding.length !== this.spec.arcfaceDim)
        throw new RangeError(`reference ${i}: arcfaceEmbedding has ${r.arcfaceEmbedding.length} values, expected ${this.spec.arcfaceDim}`);
    });
  }

  /** HWC uint8 -> [1, 3, S, S] RGB in [0, 1], then the id_prep graph (parsing, whitening, resize, CLIP normalisation). */
  private async evaInput(crop: Uint8Array): Promise<Tensor<Float32Array>> {
    const s = this.spec.cropSize;
    const plane = s * s;
    const chw = new Float32Array(3 * plane);
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) chw[c * plane + p] = crop[p * 3 + c]! / 255;
    }
    const out = await this.graphs.idPrep.run({ aligned_face: float32(chw, [1, 3, s, s]) });
    return required(out, "eva_input", "id_prep");
  }

  private async idTokensOf(evaInput: Tensor<Float32Array>, embedding: Float32Array): Promise<Float32Array> {
    const out = await this.graphs.idEncoder.run({ eva_input: evaInput, arcface_embedding: float32(embedding, [1, embedding.length]) });
    return required(out, "id_tokens", "id_encoder").data;
  }

  /**
   * The reference replaces id_cond and EVA's five hidden states with U(0,1) * noise. The
   * id_encoder graph takes EVA's input, not its hidden states, so the noise goes into the
   * graph's inputs (eva_input and the embedding) instead, scaled by the bundle's
   * id_noise_scale.id_encoder: the same idea, not the same numbers.
   */
  private async noisyIdTokens(random: () => number, idNoise: number): Promise<Float32Array> {
    const scale = idNoise * this.spec.noiseScale.idEncoder;
    const size = this.spec.evaInputSize;
    const evaInput = float32(scaledUniform(random, 3 * size * size, scale), [1, 3, size, size]);
    return this.idTokensOf(evaInput, scaledUniform(random, this.spec.arcfaceDim, scale));
  }

  private async faceTokensOf(embedding: Float32Array): Promise<Float32Array> {
    const out = await this.graphs.resampler.run({ arcface_embedding: float32(embedding, [1, 1, embedding.length]) });
    return required(out, "face_tokens", "resampler").data;
  }
}

function required(outputs: Record<string, Tensor<Float32Array>>, name: string, graph: string): Tensor<Float32Array> {
  const t = outputs[name];
  if (!t) throw new Error(`graph ${graph} returned no ${name}`);
  return t;
}

/** Element-wise mean in float64; one input comes back unchanged. */
function mean(arrays: readonly Float32Array[]): Float32Array {
  if (arrays.length === 1) return arrays[0]!;
  const sum = new Float64Array(arrays[0]!.length);
  for (const a of arrays) for (let i = 0; i < a.length; i++) sum[i]! += a[i]!;
  return Float32Array.from(sum, (v) => v / arrays.length);
}

/** Two [1, ...] blocks as rows [cond, uncond] of a [2, ...] tensor. */
function stackRows(cond: Float32Array, uncond: Float32Array, rowDims: readonly number[]): Tensor<Float32Array> {
  if (cond.length !== uncond.length) throw new RangeError(`cond has ${cond.length} values, uncond ${uncond.length}`);
  const data = new Float32Array(cond.length * 2);
  data.set(cond, 0);
  data.set(uncond, cond.length);
  return float32(data, [2, ...rowDims.slice(1)]);
}

function scaledUniform(random: () => number, n: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = random() * scale;
  return out;
}

/**
 * mulberry32: a small, fast, seedable generator (seeds are 32-bit, as the API's are).
 * U[0, 1) from the top 24 bits, so every draw is exact in float32 and never rounds up to 1.
 */
function uniformSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 8) / 16777216;
  };
}

/** FNV-1a over the embedding's bytes: a stable seed for the same faces. */
function seedFrom(embedding: Float32Array): number {
  const bytes = new Uint8Array(embedding.buffer, embedding.byteOffset, embedding.byteLength);
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}
