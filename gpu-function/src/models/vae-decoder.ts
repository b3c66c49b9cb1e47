import type { ModelBundle } from "../runtime/bundle.js";
import { float32 } from "../runtime/tensor.js";

/** Latents -> RGB: undo the VAE scaling, decode, map [-1, 1] to 8-bit as the reference does (clamp, round). */
export async function decodeLatents(bundle: ModelBundle, latents: Float32Array, dims: readonly number[]) {
  const scale = bundle.manifest.preprocessing.vae.scaling_factor;
  const scaled = new Float32Array(latents.length);
  for (let i = 0; i < latents.length; i++) scaled[i] = latents[i]! / scale;
  const graph = await bundle.graph("vae_decoder");
  const out = (await graph.run({ latents: float32(scaled, dims) })).image!;
  const [, , height, width] = out.dims as [number, number, number, number];
  return { decoded: out, rgb: toRgb8(out.data, width, height), width, height };
}

/** CHW float in [-1, 1] (first image of the batch) -> HWC uint8. */
export function toRgb8(chw: Float32Array, width: number, height: number): Uint8Array {
  const plane = width * height;
  const rgb = new Uint8Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      const v = Math.min(1, Math.max(-1, chw[c * plane + i]!));
      rgb[i * 3 + c] = Math.round((v + 1) * 127.5);
    }
  }
  return rgb;
}
