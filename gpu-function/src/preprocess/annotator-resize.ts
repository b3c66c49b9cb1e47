import type { RgbImage } from "../runtime/image.js";
import { roundHalfEven } from "./cv-round.js";
import { cv } from "./opencv.js";
import { resizeRgb } from "./output-resize.js";

export interface AnnotatorSize {
  width: number;
  height: number;
  /** cv.INTER_LANCZOS4 when enlarging, else cv.INTER_AREA (also when the scale is exactly 1). */
  interpolation: number;
}

/**
 * controlnet_aux 0.0.10 util.py resize_image's target: k = resolution / min(H, W), each side times k rounded to
 * a multiple of 64 by numpy's np.round, which sends ties to the even neighbour (4.5 tiles -> 4, where Math.round
 * gives 5), in float64 as Python computes it (infra/export/README.md, "Soft-edge detectors", step 2).
 */
export function annotatorSize(width: number, height: number, resolution: number): AnnotatorSize {
  const k = resolution / Math.min(height, width);
  return {
    width: roundHalfEven((width * k) / 64) * 64,
    height: roundHalfEven((height * k) / 64) * 64,
    interpolation: k > 1 ? cv.INTER_LANCZOS4 : cv.INTER_AREA,
  };
}

/** util.py resize_image: the image at annotatorSize with its interpolation (cv2.resize, OpenCV's own code). */
export function resizeForAnnotator(image: RgbImage, resolution: number): RgbImage {
  const { width, height, interpolation } = annotatorSize(image.width, image.height, resolution);
  return resizeRgb(image, width, height, interpolation);
}
