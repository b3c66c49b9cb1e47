import type { ModelBundle } from "../runtime/bundle.js";
import type { Graph } from "../runtime/onnx.js";
import { float32, type Tensor } from "../runtime/tensor.js";
import {
  chooseDenoiserVariant,
  LEGACY_DENOISER_VARIANTS,
  usedControlNets,
  type ControlNetName,
  type DenoiserVariant,
} from "./denoiser-variants.js";

export type IdMode = "fidelity" | "style" | "neutral";
// The id_mode input codes of the exported graph (infra/export models/id_attention.py).
const ID_MODE_CODES: Record<IdMode, number> = { neutral: 0, style: 1, fidelity: 2 };

/** Everything the denoiser sees besides the latents, in CFG rows [cond, uncond]. */
export interface DenoiserConditioning {
  encoderHiddenStates: Tensor<Float32Array>; // [2, 77, D]
  textEmbeds: Tensor<Float32Array>; // [2, P]
  timeIds: Tensor<Float32Array>; // [2, 6]
  idTokens: Tensor<Float32Array>; // [2, 10, D] cond then uncond, before padding
  faceTokens: Tensor<Float32Array>; // [2, 16, D]
  controlImage: Tensor<Float32Array>; // [1, 3, H, W] in [0, 1]
  idWeight: number;
  idMode: IdMode;
  cnScale: number;
  guidance: number;
  /** The EcomXL Inpaint ControlNet's condition [1, 3, H, W] (masked pixels -1) and strength. */
  inpaint?: ExtraControl;
  /** The EcomXL Softedge ControlNet's condition [1, 3, H, W] in [0, 1] and strength. */
  softedge?: ExtraControl;
}

export interface ExtraControl {
  image: Tensor<Float32Array>;
  scale: number;
}

/**
 * The fused IdentityNet + UNet + ID-attention graph with classifier-free guidance.
 * Inputs that do not change between steps are built once; a step only swaps the
 * latents and the timestep. With guidance 1 the uncond row is skipped (half the work).
 */
export class Denoiser {
  private constructor(
    private readonly graph: Graph,
    private readonly fixed: Record<string, Tensor>,
    private readonly guidance: number,
    private readonly rows: 1 | 2,
  ) {}

  /** `variants`: the bundle's denoiser graphs (its manifest's denoiser_variants; a bundle made before issue 14 has the legacy two). */
  static async prepare(
    bundle: ModelBundle,
    c: DenoiserConditioning,
    variants: readonly DenoiserVariant[] = LEGACY_DENOISER_VARIANTS,
  ): Promise<Denoiser> {
    const rows: 1 | 2 = c.guidance === 1 ? 1 : 2;
    const variant = chooseDenoiserVariant(variants, usedControlNets(c));
    const graph = await bundle.graph(variant.graph);
    const padding = bundle.manifest.model.id_padding_tokens[c.idMode];
    const take = (t: Tensor<Float32Array>) => firstRows(t, rows);
    const fixed: Record<string, Tensor> = {
      encoder_hidden_states: take(c.encoderHiddenStates),
      text_embeds: take(c.textEmbeds),
      time_ids: take(c.timeIds),
      id_tokens: take(padTokens(c.idTokens, padding)),
      id_weight: float32(new Float32Array(rows).fill(c.idWeight), [rows]),
      id_mode: { data: new BigInt64Array(rows).fill(BigInt(ID_MODE_CODES[c.idMode])), dims: [rows] },
      ...controlNetInputs(variant.controlnets, c, rows),
    };
    return new Denoiser(graph, fixed, c.guidance, rows);
  }

  /** Guided noise prediction for `modelInput` (already scaled by the sampler) at `timestep`. */
  async predict(modelInput: Float32Array, dims: readonly number[], timestep: number): Promise<Float32Array> {
    const sample = this.rows === 2 ? concatRows(modelInput, modelInput) : modelInput;
    const out = await this.graph.run({
      ...this.fixed,
      sample: float32(sample, [this.rows, ...dims.slice(1)]),
      timestep: float32(new Float32Array(this.rows).fill(timestep), [this.rows]),
    });
    const eps = out.noise_pred!.data;
    if (this.rows === 1) return eps;
    const n = modelInput.length;
    const guided = new Float32Array(n);
    for (let i = 0; i < n; i++) guided[i] = eps[n + i]! + this.guidance * (eps[i]! - eps[n + i]!);
    return guided;
  }
}

/**
 * The inputs of each ControlNet in the graph: its condition image, repeated for each CFG row as diffusers' ControlNet
 * pipelines repeat it (huggingface/diffusers src/diffusers/pipelines/controlnet/pipeline_controlnet_sd_xl.py,
 * prepare_image), and its scale. A ControlNet of the graph the job does not use gets a zero image and scale 0,
 * so its residuals are multiplied by 0 in the graph. IdentityNet also takes the face tokens (the extra ControlNets
 * take the text embeddings the UNet already has).
 */
export function controlNetInputs(
  controlnets: readonly ControlNetName[],
  c: Pick<DenoiserConditioning, "controlImage" | "faceTokens" | "cnScale" | "inpaint" | "softedge">,
  rows: 1 | 2,
): Record<string, Tensor> {
  const used = usedControlNets(c);
  // Every condition is at the output size, as IdentityNet's keypoint image always is.
  const zeros = float32(new Float32Array(c.controlImage.data.length), c.controlImage.dims);
  const scale = (on: boolean, value: number) => float32(new Float32Array(rows).fill(on ? value : 0), [rows]);
  const inputs: Record<string, Tensor> = {};
  for (const name of controlnets) {
    const on = used.has(name);
    if (name === "identitynet") {
      inputs.control_image = repeatRows(on ? c.controlImage : zeros, rows);
      inputs.face_tokens = firstRows(c.faceTokens, rows);
      inputs.cn_scale = scale(on, c.cnScale);
    } else {
      const extra = c[name];
      if (on && extra && extra.image.dims.join() !== zeros.dims.join())
        throw new RangeError(
          `the ${name} condition is [${extra.image.dims}], the keypoint image [${zeros.dims}]: both must be at the output size`,
        );
      inputs[`${name}_image`] = repeatRows(on && extra ? extra.image : zeros, rows);
      inputs[`${name}_scale`] = scale(on, extra?.scale ?? 0);
    }
  }
  return inputs;
}

/**
 * Zero tokens after the 10 ID tokens: attention sinks whose count sets the ID mode's strength
 * (EcomID's node pads 8 for fidelity, 16 for style, none for neutral).
 */
export function padTokens(t: Tensor<Float32Array>, padding: number): Tensor<Float32Array> {
  if (padding === 0) return t;
  const [rows, tokens, width] = t.dims as [number, number, number];
  const out = new Float32Array(rows * (tokens + padding) * width);
  for (let r = 0; r < rows; r++) out.set(t.data.subarray(r * tokens * width, (r + 1) * tokens * width), r * (tokens + padding) * width);
  return float32(out, [rows, tokens + padding, width]);
}

/** The conditioning holds both CFG rows [cond, uncond]; without guidance only the first is run. */
function firstRows(t: Tensor<Float32Array>, rows: 1 | 2): Tensor<Float32Array> {
  return rows === 2 ? t : float32(t.data.subarray(0, t.data.length / 2), [1, ...t.dims.slice(1)]);
}

function repeatRows(t: Tensor<Float32Array>, rows: number): Tensor<Float32Array> {
  if (rows === 1) return t;
  const out = new Float32Array(t.data.length * rows);
  for (let r = 0; r < rows; r++) out.set(t.data, r * t.data.length);
  return float32(out, [rows, ...t.dims.slice(1)]);
}

function concatRows(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The hint image (RGB HWC uint8) as the graph's control input [1, 3, H, W] in [0, 1]. */
export function controlImageTensor(rgb: Uint8Array, width: number, height: number): Tensor<Float32Array> {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    out[i] = rgb[i * 3]! / 255;
    out[plane + i] = rgb[i * 3 + 1]! / 255;
    out[2 * plane + i] = rgb[i * 3 + 2]! / 255;
  }
  return float32(out, [1, 3, height, width]);
}
