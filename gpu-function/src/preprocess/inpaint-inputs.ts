import type { RgbImage } from "../runtime/image.js";
import type { Tensor } from "../runtime/tensor.js";
import type { GrayImage } from "./gray-image.js";
import { inpaintCondition } from "./inpaint-condition.js";
import { requireMixedMask, requireSameSize } from "./inpaint-mask.js";
import { featherWeights, growMask } from "./mask-morphology.js";
import { resizeImageTo, resizeMaskTo } from "./output-resize.js";

export interface InpaintSettings {
  /** The output size. */
  width: number;
  height: number;
  /** Pixels the mask is dilated by (0: as given). */
  grow: number;
  /** Pixels of the seam keep_unmasked blends over (0: a hard edge). */
  feather: number;
  keepUnmasked: boolean;
}

export interface InpaintInputs {
  /** The inpaint image at the output size: what keep_unmasked keeps. */
  image: RgbImage;
  /** The grown binary mask at the output size: what is generated, and the "inpaint_mask" intermediate. */
  mask: GrayImage;
  /** The Inpaint ControlNet's condition [1, 3, H, W]. */
  condition: Tensor<Float32Array>;
  /** keepUnmasked's blend weights per pixel; null when keep_unmasked is off. */
  weights: Float32Array | null;
}

/**
 * The inpaint job's inputs in the contract's order: sizes checked, image and binary mask brought to the output size,
 * the mask grown, refused if it leaves nothing to generate or nothing to keep, then the condition and the blend
 * weights from the grown mask (the region actually generated).
 */
export function prepareInpaint(image: RgbImage, mask: GrayImage, s: InpaintSettings): InpaintInputs {
  requireSameSize(image, mask);
  const sizedImage = resizeImageTo(image, s.width, s.height);
  // Nearest-neighbour picks whole source pixels, so resizing the binary mask equals binarising the resized mask image.
  const grown = growMask(resizeMaskTo(mask, s.width, s.height), s.grow);
  requireMixedMask(grown);
  return {
    image: sizedImage,
    mask: grown,
    condition: inpaintCondition(sizedImage, grown),
    weights: s.keepUnmasked ? featherWeights(grown, s.feather) : null,
  };
}
