import { Tokenizer } from "@huggingface/tokenizers";
// The CLIP BPE tokenizer of the model bundles (infra/export writes the same tokenizer.json,
// from open_clip's vocabulary, into the tiny bundle and into real SDXL bundles), bundled
// into the worker so the edge counts a prompt's tokens exactly as the GPU function will.
import tokenizerJson from "../../../bundles/tiny/tokenizer/tokenizer.json" with { type: "json" };
import tokenizerConfig from "../../../bundles/tiny/tokenizer/tokenizer_config.json" with { type: "json" };

let tokenizer: Tokenizer | null = null;

/**
 * CLIP tokens of `text` between the start and end tokens, as the GPU function's
 * ClipTokenizer counts them. The tokenizer is built on first use (reading its 49,408-word
 * vocabulary costs tens of milliseconds), not when the worker starts.
 */
export function promptTokenCount(text: string): number {
  tokenizer ??= new Tokenizer(tokenizerJson as object, tokenizerConfig as object);
  return tokenizer.encode(text, { add_special_tokens: false }).ids.length;
}
