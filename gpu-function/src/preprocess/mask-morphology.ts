import type { GrayImage } from "./gray-image.js";
import { cv, matFromGray, withMats, type Mat } from "./opencv.js";

/**
 * grow: cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2g+1, 2g+1))) with cv2's defaults (anchor at
 * the centre, one iteration, the border never set): the mask spreads by g pixels, rounded like a disc.
 */
export function growMask(mask: GrayImage, px: number): GrayImage {
  if (px === 0) return mask;
  return morph(mask, (src, dst) => {
    const kernel = structuringElement(cv.MORPH_ELLIPSE, px);
    withMats([kernel], () => cv.dilate(src, dst, kernel, new cv.Point(-1, -1), 1, cv.BORDER_CONSTANT, cv.morphologyDefaultBorderValue()));
  });
}

/**
 * The keep_unmasked blend weight as bytes: cv2.GaussianBlur(cv2.erode(mask, MORPH_RECT (2f+1)^2), (2f+1, 2f+1), 0).
 * The erosion pulls the mask f pixels in and the blur reaches f pixels out, so every unmasked pixel gets exactly
 * 0 (the reflected border only brings in pixels nearer than the reflected ones). feather 0 gives the mask itself.
 */
export function featherBytes(mask: GrayImage, px: number): GrayImage {
  if (px === 0) return mask;
  const k = 2 * px + 1;
  return morph(mask, (src, dst) => {
    const kernel = structuringElement(cv.MORPH_RECT, px);
    const eroded = new cv.Mat();
    withMats([kernel, eroded], () => {
      cv.erode(src, eroded, kernel, new cv.Point(-1, -1), 1, cv.BORDER_CONSTANT, cv.morphologyDefaultBorderValue());
      cv.GaussianBlur(eroded, dst, new cv.Size(k, k), 0, 0, cv.BORDER_DEFAULT);
    });
  });
}

/**
 * w = featherBytes / 255 in float32, as the reference divides its uint8 array (numpy float32 / 255.). The quotient
 * is formed in float64 and rounded once more to float32, which gives the correctly rounded float32 quotient: double
 * rounding is innocuous for division when 53 >= 2 * 24 + 2 (S. A. Figueroa, "When is double rounding innocuous?",
 * ACM SIGNUM Newsletter 30(3), 1995).
 */
export function featherWeights(mask: GrayImage, px: number): Float32Array {
  return Float32Array.from(featherBytes(mask, px).data, (v) => v / 255);
}

function structuringElement(shape: number, px: number): Mat {
  return cv.getStructuringElement(shape, new cv.Size(2 * px + 1, 2 * px + 1));
}

function morph(mask: GrayImage, op: (src: Mat, dst: Mat) => void): GrayImage {
  const src = matFromGray(mask);
  const dst = new cv.Mat();
  return withMats([src, dst], () => {
    op(src, dst);
    return { width: mask.width, height: mask.height, data: new Uint8Array(dst.data) };
  });
}
