import type { RgbImage } from "../runtime/image.js";
import type { AffineMatrix } from "./affine.js";
import { cv, matFromRgb, withMats } from "./opencv.js";

/** cv2.warpAffine(src, m, (width, height), INTER_LINEAR, BORDER_CONSTANT, border) on an 8-bit RGB image: OpenCV's own code. */
export function warpAffine(
  src: RgbImage,
  m: AffineMatrix,
  width: number,
  height: number,
  border: readonly [number, number, number],
): RgbImage {
  const source = matFromRgb(src);
  const matrix = cv.matFromArray(2, 3, cv.CV_64F, m);
  const out = new cv.Mat();
  return withMats([source, matrix, out], () => {
    cv.warpAffine(
      source,
      out,
      matrix,
      new cv.Size(width, height),
      cv.INTER_LINEAR,
      cv.BORDER_CONSTANT,
      new cv.Scalar(border[0], border[1], border[2], 0),
    );
    return { width, height, data: new Uint8Array(out.data) };
  });
}
