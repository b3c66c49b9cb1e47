import type { RgbImage } from "../runtime/image.js";
import { resizeLinear } from "./resize-linear.js";

export interface Letterbox {
  /** [1, 3, size, size] float32, (RGB - mean) / std, the image top-left on zeros. */
  blob: Float32Array;
  size: number;
  /** Resized height over source height; detections are divided by it. */
  scale: number;
}

/**
 * insightface's SCRFD input: keep the aspect ratio, resize (cv2 INTER_LINEAR, bit for bit) so the
 * long side is `size`, paste at the top-left of a black square. The short side is truncated (int()).
 */
export function letterbox(image: RgbImage, size: number, mean: number, std: number): Letterbox {
  const { width: w, height: h } = image;
  const [newW, newH] = h / w > 1 ? [Math.trunc((size * w) / h), size] : [size, Math.trunc((size * h) / w)];
  const resized = resizeLinear(image, newW, newH);
  const plane = size * size;
  // The padding is zero pixels, normalised like any other pixel.
  const blob = new Float32Array(3 * plane).fill(Math.fround((0 - mean) / std));
  const { data } = resized;
  for (let y = 0; y < newH; y++) {
    for (let x = 0; x < newW; x++) {
      const i = (y * newW + x) * 3;
      const o = y * size + x;
      blob[o] = (data[i]! - mean) / std;
      blob[plane + o] = (data[i + 1]! - mean) / std;
      blob[2 * plane + o] = (data[i + 2]! - mean) / std;
    }
  }
  return { blob, size, scale: newH / h };
}
