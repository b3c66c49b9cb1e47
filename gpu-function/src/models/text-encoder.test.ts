import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ModelBundle } from "../runtime/bundle.js";
import type { Tensor } from "../runtime/tensor.js";
import { openTinyBundle, referenceBound, referenceF32, referenceParameters, scaledError } from "../../test/reference.js";
import { concatLastAxis, SdxlTextEncoder, timeIds, type RunnableGraph } from "./text-encoder.js";
import { ClipTokenizer, PromptTooLongError } from "./tokenizer.js";

const prompt = referenceParameters.prompt as string;
const negativePrompt = referenceParameters.negative_prompt as string;

/** Passes runs through to the real graph and keeps the feeds, so tests see the ids the encoder sent. */
class RecordingGraph implements RunnableGraph {
  readonly feeds: Record<string, Tensor>[] = [];
  constructor(private readonly graph: RunnableGraph) {}
  run(feeds: Record<string, Tensor>) {
    this.feeds.push(feeds);
    return this.graph.run(feeds);
  }
}

let bundle: ModelBundle;
let clipL: RecordingGraph;
let clipG: RecordingGraph;
let encoder: SdxlTextEncoder;

beforeAll(async () => {
  bundle = await openTinyBundle();
  clipL = new RecordingGraph(await bundle.graph("clip_l"));
  clipG = new RecordingGraph(await bundle.graph("clip_g"));
  const pads = bundle.manifest.tokenizer.pad_token_id;
  encoder = new SdxlTextEncoder(await ClipTokenizer.fromBundle(bundle), clipL, clipG, { clipL: pads.clip_l, clipG: pads.clip_g });
});

afterAll(() => bundle.release());

describe("SdxlTextEncoder on the tiny bundle", () => {
  it("sends both encoders exactly the reference token ids, rows [cond, uncond]", async () => {
    await encoder.encode({ prompt, negativePrompt });
    const sentL = Array.from(clipL.feeds.at(-1)!.input_ids!.data as BigInt64Array, Number);
    const sentG = Array.from(clipG.feeds.at(-1)!.input_ids!.data as BigInt64Array, Number);
    expect(clipL.feeds.at(-1)!.input_ids!.dims).toEqual([2, 77]);
    expect(sentL).toEqual(Array.from(referenceF32("input_ids_clip_l").data));
    expect(sentG).toEqual(Array.from(referenceF32("input_ids_clip_g").data));
  });

  it("matches the reference encoder_hidden_states and text_embeds within the text towers' float32 bounds", async () => {
    const { encoderHiddenStates, textEmbeds } = await encoder.encode({ prompt, negativePrompt });
    const hidden = referenceF32("encoder_hidden_states");
    const pooled = referenceF32("text_embeds");
    expect(encoderHiddenStates.dims).toEqual(hidden.shape);
    expect(textEmbeds.dims).toEqual(pooled.shape);
    const errors = { hidden: scaledError(encoderHiddenStates.data, hidden.data), pooled: scaledError(textEmbeds.data, pooled.data) };
    console.info("text parity, error / max(1, |reference|)", errors);
    // The hidden states are CLIP-L's and CLIP-G's side by side: the larger of the two bounds covers both.
    expect(errors.hidden).toBeLessThanOrEqual(Math.max(referenceBound({ clip_l: 1 }), referenceBound({ clip_g: 1 })));
    expect(errors.pooled).toBeLessThanOrEqual(referenceBound({ clip_g: 1 }));
  });

  it("is wired the same way by fromBundle", async () => {
    const fromBundle = await SdxlTextEncoder.fromBundle(bundle);
    const a = await fromBundle.encode({ prompt, negativePrompt });
    expect(scaledError(a.textEmbeds.data, referenceF32("text_embeds").data)).toBeLessThanOrEqual(referenceBound({ clip_g: 1 }));
  });

  it("encodes one row alone as the cond row of the pair (guidance 1 skips uncond)", async () => {
    const pair = await encoder.encode({ prompt, negativePrompt: "blurry" });
    const single = await encoder.encodeRows([{ text: prompt, field: "prompt" }]);
    expect(single.encoderHiddenStates.dims).toEqual([1, 77, 24]);
    const n = single.encoderHiddenStates.data.length;
    // Batch 1 and batch 2 may take other kernels, so two evaluations of the towers: their bound.
    const bound = Math.max(referenceBound({ clip_l: 1 }), referenceBound({ clip_g: 1 }));
    expect(scaledError(single.encoderHiddenStates.data, pair.encoderHiddenStates.data.subarray(0, n))).toBeLessThanOrEqual(bound);
  });

  it("refuses a too-long negative prompt before running any graph", async () => {
    const runs = clipL.feeds.length + clipG.feeds.length;
    const long = Array(80).fill("word").join(" ");
    await expect(encoder.encode({ prompt, negativePrompt: long })).rejects.toMatchObject({
      field: "negative_prompt",
      tokenCount: 80,
      limit: 75,
    });
    await expect(encoder.encode({ prompt: long, negativePrompt })).rejects.toBeInstanceOf(PromptTooLongError);
    expect(clipL.feeds.length + clipG.feeds.length).toBe(runs);
  });
});

describe("timeIds", () => {
  it("is (H, W, 0, 0, H, W) on every CFG row", () => {
    const t = timeIds(1024, 768);
    expect(t.dims).toEqual([2, 6]);
    expect(Array.from(t.data)).toEqual([1024, 768, 0, 0, 1024, 768, 1024, 768, 0, 0, 1024, 768]);
    expect(timeIds(64, 128, 1).dims).toEqual([1, 6]);
  });
});

describe("concatLastAxis", () => {
  it("interleaves per position: a's features, then b's", () => {
    const a = { data: Float32Array.of(1, 2, 3, 4), dims: [2, 2] };
    const b = { data: Float32Array.of(5, 6), dims: [2, 1] };
    expect(concatLastAxis(a, b)).toEqual({ data: Float32Array.of(1, 2, 5, 3, 4, 6), dims: [2, 3] });
    expect(() => concatLastAxis(a, { data: Float32Array.of(5, 6, 7), dims: [3, 1] })).toThrow(RangeError);
  });
});
