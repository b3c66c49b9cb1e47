import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { JobFailure } from "../pipelines/job-failure.js";
import type { ModelBundle } from "../runtime/bundle.js";

/** The bundle's tokenizer section, in camelCase. */
export interface ClipTokenizerSpec {
  maxLength: number;
  bosTokenId: number;
  eosTokenId: number;
}

export type PromptField = "prompt" | "negative_prompt";

/**
 * A prompt longer than one CLIP window. We refuse rather than chunk or truncate:
 * - the PyTorch reference this service is checked against truncates silently, which
 *   drops the user's words without telling them;
 * - ComfyUI's chunking (the EcomID workflow) hangs on its word-boundary heuristics and
 *   weight syntax, and when cond and uncond get different chunk counts it repeats the
 *   shorter one to their least common multiple, so the result depends on the other
 *   prompt; there is no reference output to prove any of it here.
 * A clear refusal with the count and the limit lets the caller shorten the prompt.
 * The code is the public contract's existing `parameter_out_of_range` (shared/src/errors.ts
 * has no prompt-specific code yet); `reason` says which limit.
 */
export class PromptTooLongError extends JobFailure {
  override readonly name = "PromptTooLongError";
  readonly reason = "prompt_too_long";

  constructor(
    readonly field: PromptField,
    readonly tokenCount: number,
    readonly limit: number,
  ) {
    super(
      "parameter_out_of_range",
      `${field} is ${tokenCount} CLIP tokens long; at most ${limit} fit (${limit + 2} with the start and end tokens)`,
      {
        hint: `shorten the ${field === "prompt" ? "prompt" : "negative prompt"} to at most ${limit} CLIP tokens`,
      },
    );
  }

  /** JSON Pointer of the offending field in a job's input. */
  get pointer(): string {
    return `/input/${this.field}`;
  }
}

/** CLIP BPE tokenization into fixed 77-token windows: bos, tokens, eos, then padding. */
export class ClipTokenizer {
  constructor(
    private readonly tokenizer: Tokenizer,
    readonly spec: ClipTokenizerSpec,
  ) {}

  /** Reads tokenizer.json and its config from the bundle; no hub access. */
  static async fromBundle(bundle: ModelBundle): Promise<ClipTokenizer> {
    const t = bundle.manifest.tokenizer;
    const [json, config] = await Promise.all([
      readFile(join(bundle.dir, t.file), "utf8"),
      readFile(join(bundle.dir, t.config_file), "utf8"),
    ]);
    return new ClipTokenizer(new Tokenizer(JSON.parse(json), JSON.parse(config)), {
      maxLength: t.max_length,
      bosTokenId: t.bos_token_id,
      eosTokenId: t.eos_token_id,
    });
  }

  /** Tokens between bos and eos a window holds. */
  get contentLimit(): number {
    return this.spec.maxLength - 2;
  }

  /**
   * The prompt's ids with bos and eos, unpadded. Special tokens are added here rather
   * than by tokenizer.json's post-processor so a bundle whose tokenizer.json lacks one
   * still gets them.
   */
  ids(text: string): number[] {
    const content = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    return [this.spec.bosTokenId, ...content, this.spec.eosTokenId];
  }

  /**
   * One window of `maxLength` ids padded with `padId` (each encoder has its own: SDXL's
   * CLIP-L pads with eos, OpenCLIP-bigG with "!" = 0).
   * @throws PromptTooLongError when the prompt does not fit one window.
   * @example tokenizer.window("a photo", 49407, "prompt") // BigInt64Array(77) [49406n, 320n, 1125n, 49407n, 49407n, ...]
   */
  window(text: string, padId: number, field: PromptField = "prompt"): BigInt64Array {
    const ids = this.ids(text);
    if (ids.length > this.spec.maxLength) throw new PromptTooLongError(field, ids.length - 2, this.contentLimit);
    const out = new BigInt64Array(this.spec.maxLength).fill(BigInt(padId));
    ids.forEach((id, i) => (out[i] = BigInt(id)));
    return out;
  }
}
