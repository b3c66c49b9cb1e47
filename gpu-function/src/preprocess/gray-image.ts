import type { RgbImage } from "../runtime/image.js";

/** One 8-bit channel, row-major, width * height bytes: a binary mask (0 or 255), feather weights or a gray edge map. */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Pillow's Image.convert("L") of an RGB image: ITU-R 601-2 luma in 16-bit fixed point, the L24 macro of
 * python-pillow/Pillow src/libImaging/Convert.c shifted right by 16. The weights sum to 65536, so gray stays gray.
 */
export function luma(image: RgbImage): GrayImage {
  const n = image.width * image.height;
  const out = new Uint8Array(n);
  const rgb = image.data;
  for (let i = 0; i < n; i++)
    out[i] = ((rgb[3 * i] ?? 0) * 19595 + (rgb[3 * i + 1] ?? 0) * 38470 + (rgb[3 * i + 2] ?? 0) * 7471 + 0x8000) >>> 16;
  return { width: image.width, height: image.height, data: out };
}

/** The gray level on all three channels: how an edge map is fed to its ControlNet and how a mask is shown. */
export function grayToRgb(gray: GrayImage): RgbImage {
  const out = new Uint8Array(gray.data.length * 3);
  gray.data.forEach((v, i) => {
    out[3 * i] = v;
    out[3 * i + 1] = v;
    out[3 * i + 2] = v;
  });
  return { width: gray.width, height: gray.height, data: out };
}
