import type { RgbImage } from "../runtime/image.js";

/**
 * keep_unmasked: the EcomXL Inpaint model card's add_fg (https://huggingface.co/alimama-creative/EcomXL_controlnet_inpaint)
 * on numpy float32: clip(generated * w + original * (1 - w), 0, 255) truncated to uint8, w per pixel on every channel.
 * Each float32 product and sum is rounded where numpy rounds it (Math.fround), so the bytes are numpy's. Where
 * w = 0, generated * 0 + original * 1 is the original byte exactly: unmasked pixels are the input's.
 */
export function keepUnmasked(generated: RgbImage, original: RgbImage, weights: Float32Array): RgbImage {
  const { width, height } = original;
  if (generated.width !== width || generated.height !== height || weights.length !== width * height)
    throw new RangeError(
      `keepUnmasked: generated ${generated.width}x${generated.height}, original ${width}x${height}, ${weights.length} weights`,
    );
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < weights.length; p++) {
    const w = weights[p] ?? 0;
    const keep = Math.fround(1 - w);
    for (let c = 3 * p; c < 3 * p + 3; c++) {
      const blended = Math.fround(Math.fround((generated.data[c] ?? 0) * w) + Math.fround((original.data[c] ?? 0) * keep));
      // clip then astype(uint8): truncation towards zero of a value in [0, 255].
      out[c] = Math.trunc(Math.min(255, Math.max(0, blended)));
    }
  }
  return { width, height, data: out };
}
