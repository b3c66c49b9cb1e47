import type { ModelBundle } from "../runtime/bundle.js";
import type { Graph } from "../runtime/onnx.js";
import { float32, type Tensor } from "../runtime/tensor.js";
import { ClipTokenizer, type PromptField } from "./tokenizer.js";

/** What the encoder needs of a graph, so tests can pass fakes. */
export type RunnableGraph = Pick<Graph, "run">;

/** SDXL's text conditioning for a batch of rows, in the order the prompts were given. */
export interface TextConditioning {
  /** CLIP-L and OpenCLIP-bigG penultimate hidden states concatenated per token: [rows, 77, dL + dG]. */
  encoderHiddenStates: Tensor<Float32Array>;
  /** bigG's pooled, projected embedding (at the first eos): [rows, dPooled]. */
  textEmbeds: Tensor<Float32Array>;
}

export interface PromptPair {
  prompt: string;
  /** "" is encoded as a real empty prompt (bos, eos, padding), as ComfyUI and the reference do, not zeroed. */
  negativePrompt: string;
}

// Graph input and output names fixed by the bundle manifest (graphs.clip_l / graphs.clip_g).
const INPUT_IDS = "input_ids";
const HIDDEN = "penultimate_hidden_states";
const POOLED = "text_embeds";

/** Both SDXL text encoders behind one call: tokenize, run CLIP-L and bigG, concatenate. */
export class SdxlTextEncoder {
  constructor(
    private readonly tokenizer: ClipTokenizer,
    private readonly clipL: RunnableGraph,
    private readonly clipG: RunnableGraph,
    private readonly padIds: { clipL: number; clipG: number },
  ) {}

  static async fromBundle(bundle: ModelBundle): Promise<SdxlTextEncoder> {
    const [tokenizer, clipL, clipG] = await Promise.all([ClipTokenizer.fromBundle(bundle), bundle.graph("clip_l"), bundle.graph("clip_g")]);
    const pads = bundle.manifest.tokenizer.pad_token_id;
    return new SdxlTextEncoder(tokenizer, clipL, clipG, { clipL: pads.clip_l, clipG: pads.clip_g });
  }

  /**
   * Rows [cond, uncond] for classifier-free guidance.
   * @throws PromptTooLongError (code parameter_out_of_range) naming the field that does not fit.
   * @example const { encoderHiddenStates, textEmbeds } = await text.encode({ prompt: "a portrait", negativePrompt: "" });
   */
  encode({ prompt, negativePrompt }: PromptPair): Promise<TextConditioning> {
    return this.encodeRows([
      { text: prompt, field: "prompt" },
      { text: negativePrompt, field: "negative_prompt" },
    ]);
  }

  /** Any rows in one batched run of each graph (e.g. the cond row alone when guidance is 1). */
  async encodeRows(rows: readonly { text: string; field: PromptField }[]): Promise<TextConditioning> {
    if (rows.length === 0) throw new RangeError("encodeRows needs at least one prompt");
    // Tokenize every row first so a too-long prompt is refused before any graph runs.
    const idsL = this.batchIds(rows, this.padIds.clipL);
    const idsG = this.batchIds(rows, this.padIds.clipG);
    const [outL, outG] = await Promise.all([this.clipL.run({ [INPUT_IDS]: idsL }), this.clipG.run({ [INPUT_IDS]: idsG })]);
    const hiddenL = output(outL, HIDDEN, "clip_l");
    const hiddenG = output(outG, HIDDEN, "clip_g");
    return { encoderHiddenStates: concatLastAxis(hiddenL, hiddenG), textEmbeds: output(outG, POOLED, "clip_g") };
  }

  private batchIds(rows: readonly { text: string; field: PromptField }[], padId: number): Tensor<BigInt64Array> {
    const length = this.tokenizer.spec.maxLength;
    const data = new BigInt64Array(rows.length * length);
    rows.forEach((row, i) => data.set(this.tokenizer.window(row.text, padId, row.field), i * length));
    return { data, dims: [rows.length, length] };
  }
}

/**
 * SDXL's micro-conditioning: original size, crop top-left, target size = (H, W, 0, 0, H, W),
 * one row per CFG row. EcomID generates at the requested size without cropping.
 */
export function timeIds(height: number, width: number, rows = 2): Tensor<Float32Array> {
  const data = new Float32Array(rows * 6);
  for (let r = 0; r < rows; r++) data.set([height, width, 0, 0, height, width], r * 6);
  return float32(data, [rows, 6]);
}

function output(outputs: Record<string, Tensor<Float32Array>>, name: string, graph: string): Tensor<Float32Array> {
  const t = outputs[name];
  if (!t) throw new Error(`graph ${graph} returned no ${name}`);
  return t;
}

/** [..., a] ++ [..., b] -> [..., a + b] for two tensors with equal leading dims. */
export function concatLastAxis(a: Tensor<Float32Array>, b: Tensor<Float32Array>): Tensor<Float32Array> {
  const da = a.dims.at(-1)!;
  const db = b.dims.at(-1)!;
  const lead = a.dims.slice(0, -1);
  if (lead.join() !== b.dims.slice(0, -1).join()) throw new RangeError(`cannot concatenate [${a.dims}] and [${b.dims}] on the last axis`);
  const positions = a.data.length / da;
  const out = new Float32Array(positions * (da + db));
  for (let p = 0; p < positions; p++) {
    out.set(a.data.subarray(p * da, (p + 1) * da), p * (da + db));
    out.set(b.data.subarray(p * db, (p + 1) * db), p * (da + db) + da);
  }
  return float32(out, [...lead, da + db]);
}
