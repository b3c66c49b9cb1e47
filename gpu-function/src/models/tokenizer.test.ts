import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { ModelBundle } from "../runtime/bundle.js";
import { TINY_BUNDLE } from "../../test/reference.js";
import { ClipTokenizer, PromptTooLongError } from "./tokenizer.js";

// Written by test/goldens/conditioning/make_tokenizer_goldens.py with the Python `tokenizers` library.
const goldens = JSON.parse(readFileSync("gpu-function/test/goldens/conditioning/tokenizer-cases.json", "utf8")) as {
  cases: { prompt: string; ids: number[] }[];
};

let tokenizer: ClipTokenizer;

beforeAll(async () => {
  const bundle = await ModelBundle.open(TINY_BUNDLE, { provider: "cpu" }, { skipHashes: true });
  tokenizer = await ClipTokenizer.fromBundle(bundle);
});

describe("ClipTokenizer", () => {
  it.each(goldens.cases.map((c) => [JSON.stringify(c.prompt), c] as const))("gives the Python tokenizer's ids for %s", (_, c) => {
    expect(tokenizer.ids(c.prompt)).toEqual(c.ids);
  });

  it("pads a window to 77 with the pad id it is given, after bos, tokens and eos", () => {
    const l = Array.from(tokenizer.window("a photo", 49407), Number);
    const g = Array.from(tokenizer.window("a photo", 0), Number);
    expect(l.length).toBe(77);
    expect(l.slice(0, 4)).toEqual([49406, 320, 1125, 49407]);
    expect(new Set(l.slice(4))).toEqual(new Set([49407]));
    expect(g.slice(0, 4)).toEqual([49406, 320, 1125, 49407]);
    expect(new Set(g.slice(4))).toEqual(new Set([0]));
  });

  it("fits exactly 75 tokens between bos and eos", () => {
    const ids = tokenizer.window(Array(75).fill("word").join(" "), 0);
    expect(ids[0]).toBe(49406n);
    expect(ids[76]).toBe(49407n);
  });

  it("refuses a 76-token prompt with the count, the limit and a stable code", () => {
    const refuse = () => tokenizer.window(Array(76).fill("word").join(" "), 0, "negative_prompt");
    expect(refuse).toThrow(PromptTooLongError);
    try {
      refuse();
    } catch (e) {
      const err = e as PromptTooLongError;
      expect(err).toMatchObject({
        code: "parameter_out_of_range",
        reason: "prompt_too_long",
        field: "negative_prompt",
        tokenCount: 76,
        limit: 75,
        retryable: false,
      });
      expect(err.pointer).toBe("/input/negative_prompt");
      expect(err.message).toBe("negative_prompt is 76 CLIP tokens long; at most 75 fit (77 with the start and end tokens)");
    }
  });
});
