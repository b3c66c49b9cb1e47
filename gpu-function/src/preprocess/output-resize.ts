import type { RgbImage } from "../runtime/image.js";
import type { GrayImage } from "./gray-image.js";
import { cv, matFromGray, matFromRgb, withMats, type Mat } from "./opencv.js";

interface Size {
  width: number;
  height: number;
}

/**
 * How the inpaint image reaches the output size: cv2.INTER_AREA when the output has fewer pixels (area averaging
 * does not alias), cv2.INTER_CUBIC otherwise. A size that shrinks one side and enlarges the other (451x300 ->
 * 448x320) is decided by the pixel count, the same test the Python reference must make.
 */
export function imageInterpolation(from: Size, to: Size): number {
  return to.width * to.height < from.width * from.height ? cv.INTER_AREA : cv.INTER_CUBIC;
}

/** The inpaint image at the output size (itself when the size is already right). */
export function resizeImageTo(image: RgbImage, width: number, height: number): RgbImage {
  if (image.width === width && image.height === height) return image;
  return resizeRgb(image, width, height, imageInterpolation(image, { width, height }));
}

/** cv2.resize(image, (width, height), interpolation=...) on an 8-bit RGB image. */
export function resizeRgb(image: RgbImage, width: number, height: number, interpolation: number): RgbImage {
  return { width, height, data: resize(matFromRgb(image), width, height, interpolation) };
}

/** A binary mask at the output size: cv2.INTER_NEAREST keeps it binary (every output pixel is one input pixel). */
export function resizeMaskTo(mask: GrayImage, width: number, height: number): GrayImage {
  if (mask.width === width && mask.height === height) return mask;
  return { width, height, data: resize(matFromGray(mask), width, height, cv.INTER_NEAREST) };
}

/** A gray edge map at the output size with cv2.INTER_LINEAR, as the softedge condition is resized. */
export function resizeGrayLinear(gray: GrayImage, width: number, height: number): GrayImage {
  if (gray.width === width && gray.height === height) return gray;
  return { width, height, data: resize(matFromGray(gray), width, height, cv.INTER_LINEAR) };
}

function resize(src: Mat, width: number, height: number, interpolation: number): Uint8Array {
  const dst = new cv.Mat();
  return withMats([src, dst], () => {
    cv.resize(src, dst, new cv.Size(width, height), 0, 0, interpolation);
    return new Uint8Array(dst.data);
  });
}
