import type { RgbImage } from "../runtime/image.js";
import { float32, type Tensor } from "../runtime/tensor.js";
import { grayToRgb, luma, type GrayImage } from "./gray-image.js";
import { resizeGrayLinear } from "./output-resize.js";

export interface SoftedgeCondition {
  /** The edge map at the output size, gray on three channels: the "edge_map" intermediate. */
  edgeMap: RgbImage;
  /** The Softedge ControlNet's condition: edgeMap / 255 in float32, NCHW [1, 3, H, W] in [0, 1]. */
  tensor: Tensor<Float32Array>;
}

/** A given edge map is used as is, only made gray like Pillow's convert("L") (a gray PNG stays as it is). */
export function edgeMapFromImage(image: RgbImage): GrayImage {
  return luma(image);
}

/**
 * The condition from an 8-bit edge map (given, or the detector's output rounded to bytes): resized as bytes with
 * cv2.INTER_LINEAR when its size is not the output's, then replicated to RGB and divided by 255 (float64 then
 * float32: one correctly rounded division, see featherWeights).
 */
export function softedgeCondition(edges: GrayImage, width: number, height: number): SoftedgeCondition {
  const sized = resizeGrayLinear(edges, width, height);
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    const v = (sized.data[i] ?? 0) / 255;
    out[i] = v;
    out[plane + i] = v;
    out[2 * plane + i] = v;
  }
  return { edgeMap: grayToRgb(sized), tensor: float32(out, [1, 3, height, width]) };
}
