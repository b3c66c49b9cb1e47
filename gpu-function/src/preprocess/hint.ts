import type { RgbImage } from "../runtime/image.js";
import { roundHalfEven } from "./cv-round.js";

/**
 * The control hint at the output size, as ComfyUI prepares a ControlNet image: centre-crop to the
 * output aspect ratio (Python round(): halves to even), then resize with torch's "nearest-exact" (source index floor((i + 0.5) * in / out),
 * the scale a float32). Pixel for pixel with the reference's hint_for_output.
 */
export function hintForOutput(image: RgbImage, width: number, height: number): RgbImage {
  const { width: w, height: h } = image;
  let x0 = 0,
    y0 = 0,
    cropW = w,
    cropH = h;
  if (w * height > h * width) {
    cropW = roundHalfEven((h * width) / height);
    x0 = Math.floor((w - cropW) / 2);
  } else if (w * height < h * width) {
    cropH = roundHalfEven((w * height) / width);
    y0 = Math.floor((h - cropH) / 2);
  }
  const sourceIndex = (i: number, size: number, out: number) =>
    Math.min(Math.floor(Math.fround((i + 0.5) * Math.fround(size / out))), size - 1);
  const xs = Int32Array.from({ length: width }, (_, i) => x0 + sourceIndex(i, cropW, width));
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = y0 + sourceIndex(y, cropH, height);
    for (let x = 0; x < width; x++) {
      const s = (sy * w + xs[x]!) * 3;
      const o = (y * width + x) * 3;
      data[o] = image.data[s]!;
      data[o + 1] = image.data[s + 1]!;
      data[o + 2] = image.data[s + 2]!;
    }
  }
  return { width, height, data };
}
