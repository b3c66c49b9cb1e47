import type { RgbImage } from "../runtime/image.js";
import { cv, matFromRgb, withMats } from "./opencv.js";

/** cv2.resize(src, (width, height)) with INTER_LINEAR on an 8-bit RGB image: OpenCV's own code. */
export function resizeLinear(image: RgbImage, width: number, height: number): RgbImage {
  const src = matFromRgb(image);
  const dst = new cv.Mat();
  return withMats([src, dst], () => {
    cv.resize(src, dst, new cv.Size(width, height), 0, 0, cv.INTER_LINEAR);
    return { width, height, data: new Uint8Array(dst.data) };
  });
}
