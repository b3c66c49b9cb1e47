import type { RgbImage } from "../runtime/image.js";
import { luma, type GrayImage } from "./gray-image.js";
import { MaskError } from "./mask-error.js";

/** A set pixel of a binary mask (generate here); unset pixels are 0. uint8 like the reference's mask_u8, so cv2 takes it as is. */
export const MASK_SET = 255;

/**
 * The mask image binarised as the EcomXL Inpaint model card's make_inpaint_condition does it
 * (https://huggingface.co/alimama-creative/EcomXL_controlnet_inpaint): convert("L"), /255, > 0.5. For integer
 * luma L, L / 255 > 0.5 exactly when L >= 128 (127 / 255 < 0.5 < 128 / 255, in float32 too).
 */
export function maskFromImage(mask: RgbImage): GrayImage {
  const l = luma(mask);
  return { ...l, data: l.data.map((v) => (v >= 128 ? MASK_SET : 0)) };
}

/** Decoded pixels with however many channels the file had (1 gray, 2 gray + alpha, 3 RGB, 4 RGBA), interleaved. */
export interface DecodedPixels {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array;
}

/** mask_from "alpha": generate where the image is transparent (alpha < 128), around a cut-out product. */
export function maskFromAlpha(image: DecodedPixels): GrayImage {
  if (image.channels !== 2 && image.channels !== 4)
    throw new MaskError(
      "mask_missing_alpha",
      `mask_from alpha was asked, but the ${image.width}x${image.height} inpaint image has no alpha channel`,
    );
  const n = image.width * image.height;
  const out = new Uint8Array(n);
  const alpha = image.channels - 1;
  for (let i = 0; i < n; i++) out[i] = (image.data[i * image.channels + alpha] ?? 0) < 128 ? MASK_SET : 0;
  return { width: image.width, height: image.height, data: out };
}

/** The mask must cover the image pixel for pixel; it is never stretched to fit. */
export function requireSameSize(image: { width: number; height: number }, mask: { width: number; height: number }): void {
  if (image.width !== mask.width || image.height !== mask.height)
    throw new MaskError(
      "mask_size_mismatch",
      `the inpaint mask is ${mask.width}x${mask.height} but the image is ${image.width}x${image.height}`,
    );
}

/** A mask with nothing to generate, or nothing to keep, is refused: neither is an inpainting job. */
export function requireMixedMask(mask: GrayImage): void {
  const set = mask.data.reduce((n, v) => n + (v === MASK_SET ? 1 : 0), 0);
  if (set === 0) throw new MaskError("mask_empty", `the ${mask.width}x${mask.height} inpaint mask has no pixel to generate`);
  if (set === mask.data.length)
    throw new MaskError("mask_full", `the ${mask.width}x${mask.height} inpaint mask covers every pixel: nothing is kept`);
}
