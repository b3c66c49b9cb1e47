import type { InpaintInput } from "@ecomid/shared/api";
import type { AppBindings } from "../env.js";
import { AppError } from "../errors.js";
import { alphaOf } from "../lib/image-sniff.js";
import type { ImageToStore } from "./input-blobs.js";

/** Enough of a stored upload to reach its first pixel data in any image the API accepts, in practice. */
const HEADER_RANGE_BYTES = 256 * 1024;

/** Whether an image has an alpha channel, read from its header (an upload's from the first bytes in R2). */
async function hasAlpha(env: AppBindings, image: ImageToStore): Promise<boolean> {
  if (image.bytes) return alphaOf(image.bytes) === "alpha";
  const head = await env.FILES.get(image.image.key, { range: { offset: 0, length: HEADER_RANGE_BYTES } });
  if (!head) throw new AppError("not_found", "the uploaded image is no longer stored");
  const answer = alphaOf(new Uint8Array(await head.arrayBuffer()));
  if (answer !== "unknown") return answer === "alpha";
  // Chunks before the pixel data longer than the range (a large ICC profile or text): read it all.
  const whole = await env.FILES.get(image.image.key);
  if (!whole) throw new AppError("not_found", "the uploaded image is no longer stored");
  return alphaOf(new Uint8Array(await whole.arrayBuffer())) === "alpha";
}

/**
 * The refusals the edge can give from the images' headers, before anything is stored:
 * a mask of another size than its image, and mask_from "alpha" on an image without alpha.
 * (An empty or full mask shows only when decoded: the GPU function fails the job then.)
 */
export async function checkInpaintImages(
  env: AppBindings,
  inpaint: Pick<InpaintInput, "mask_from">,
  image: ImageToStore,
  mask: ImageToStore | null,
): Promise<void> {
  if (mask && (mask.image.width !== image.image.width || mask.image.height !== image.image.height)) {
    const detail = `the mask is ${mask.image.width}x${mask.image.height}, the image ${image.image.width}x${image.image.height}`;
    throw new AppError("mask_size_mismatch", detail, {
      errors: [{ pointer: "/input/inpaint/mask", code: "mask_size_mismatch", message: detail }],
    });
  }
  if (inpaint.mask_from === "alpha" && !(await hasAlpha(env, image))) {
    const detail = `mask_from "alpha" needs an image with an alpha channel; this ${image.image.content_type} has none`;
    throw new AppError("mask_missing_alpha", detail, {
      errors: [{ pointer: "/input/inpaint/image", code: "mask_missing_alpha", message: detail }],
    });
  }
}
