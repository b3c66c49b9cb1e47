import type { RgbImage } from "../runtime/image.js";
import { float32, type Tensor } from "../runtime/tensor.js";
import type { GrayImage } from "./gray-image.js";
import { MASK_SET } from "./inpaint-mask.js";

/** Masked pixels of the condition: the EcomXL Inpaint ControlNet was trained to read -1 as "generate here". */
export const MASKED_CONDITION = -1;

/**
 * The EcomXL Inpaint ControlNet's condition, as the model card's make_inpaint_condition builds it
 * (https://huggingface.co/alimama-creative/EcomXL_controlnet_inpaint): RGB / 255 in float32, every channel of a
 * masked pixel set to -1, NCHW [1, 3, H, W]. (v / 255 is formed in float64 and stored in float32, which rounds it
 * as a float32 division would: see featherWeights.)
 */
export function inpaintCondition(image: RgbImage, mask: GrayImage): Tensor<Float32Array> {
  const { width, height } = image;
  if (mask.width !== width || mask.height !== height)
    throw new RangeError(`inpaintCondition: image ${width}x${height}, mask ${mask.width}x${mask.height}`);
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    const masked = mask.data[i] === MASK_SET;
    for (let c = 0; c < 3; c++) out[c * plane + i] = masked ? MASKED_CONDITION : (image.data[3 * i + c] ?? 0) / 255;
  }
  return float32(out, [1, 3, height, width]);
}
