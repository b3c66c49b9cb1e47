import type { ModelLimits } from "./models.js";

type SizeLimits = Pick<ModelLimits, "min_side" | "max_side" | "max_pixels" | "side_multiple">;

/**
 * The output size a job with an inpaint image and no size gets (issue 14): the image's
 * sides rounded to the nearest multiple of the model's side_multiple (a tie rounds up),
 * each brought within min_side..max_side; when the pair then exceeds max_pixels, both sides
 * are scaled by the same factor and rounded down to the multiple, so the product fits and
 * the aspect ratio changes by less than one multiple per side.
 */
export function defaultOutputSize(image: { width: number; height: number }, limits: SizeLimits): { width: number; height: number } {
  const m = limits.side_multiple;
  // The limits are themselves multiples of m in every catalog entry; rounding inward keeps a clamped side one too.
  const lo = Math.ceil(limits.min_side / m) * m;
  const hi = Math.floor(limits.max_side / m) * m;
  const clamp = (v: number) => Math.min(hi, Math.max(lo, v));
  let width = clamp(Math.round(image.width / m) * m);
  let height = clamp(Math.round(image.height / m) * m);
  if (width * height > limits.max_pixels) {
    const scale = Math.sqrt(limits.max_pixels / (width * height));
    width = clamp(Math.floor((width * scale) / m) * m);
    height = clamp(Math.floor((height * scale) / m) * m);
  }
  return { width, height };
}

/** Each side the client left out takes the inpaint image's (rounded as above), the other side stays as given. */
export function resolveOutputSize(
  given: { width?: number | undefined; height?: number | undefined },
  inpaintImage: { width: number; height: number } | null,
  fallback: { width: number; height: number },
  limits: SizeLimits,
): { width: number; height: number } {
  const fromImage = inpaintImage ? defaultOutputSize(inpaintImage, limits) : fallback;
  return { width: given.width ?? fromImage.width, height: given.height ?? fromImage.height };
}
