import type { RgbImage } from "../runtime/image.js";

// A linear map from SDXL's 4 latent channels to RGB: a cheap, model-free preview of
// where the image is heading (the approximation ComfyUI-style previews use).
const FACTORS = [
  [0.3651, 0.4232, 0.4341],
  [-0.2533, -0.0042, 0.1068],
  [0.1076, 0.1111, -0.0362],
  [-0.3165, -0.2492, -0.2188],
] as const;
const BIAS = [0.1084, -0.0175, -0.0011] as const;

/** Latents [1, 4, h, w] -> a small RGB image (h x w, one pixel per latent). */
export function latentPreview(latents: Float32Array, latentWidth: number, latentHeight: number): RgbImage {
  const plane = latentWidth * latentHeight;
  const data = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      let v = BIAS[c]!;
      for (let k = 0; k < 4; k++) v += latents[k * plane + i]! * FACTORS[k]![c]!;
      data[i * 3 + c] = Math.max(0, Math.min(255, Math.round((v + 1) * 127.5)));
    }
  }
  return { width: latentWidth, height: latentHeight, data };
}
