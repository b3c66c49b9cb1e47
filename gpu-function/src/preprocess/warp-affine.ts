import type { RgbImage } from "../runtime/image.js";
import { roundHalfEven } from "./cv-round.js";

/** A 2x3 affine matrix, row-major [a, b, c, d, e, f]: x' = a x + b y + c, y' = d x + e y + f. */
export type AffineMatrix = readonly [number, number, number, number, number, number];

const INTER_BITS = 5;
const INTER_TAB = 1 << INTER_BITS;
const AB_BITS = 10;
const AB_SCALE = 1 << AB_BITS;
const ROUND_DELTA = AB_SCALE / INTER_TAB / 2;

/** Inverts the forward matrix the way cv2.warpAffine does (in doubles, before any fixed point). */
export function invertAffine(m: AffineMatrix): AffineMatrix {
  const [a, b, c, d, e, f] = m;
  let det = a * e - b * d;
  det = det !== 0 ? 1 / det : 0;
  const ia = e * det;
  const ie = a * det;
  const ib = -b * det;
  const id = -d * det;
  return [ia, ib, -ia * c - ib * f, id, ie, -id * c - ie * f];
}

/**
 * cv2.warpAffine(src, m, (width, height), INTER_LINEAR, BORDER_CONSTANT, border) bit for bit:
 * source positions in 10-bit fixed point per row and column (rounded half to even, as cvRound),
 * cut to 1/32 pixel, then bilinear weights in 1/32768 that always sum to one, rounded by 15 bits.
 * Neighbours outside the source take the border colour one by one, as OpenCV's remap does.
 */
export function warpAffine(src: RgbImage, m: AffineMatrix, width: number, height: number, border: readonly [number, number, number]): RgbImage {
  const inv = invertAffine(m);
  const { width: sw, height: sh, data } = src;
  const adelta = new Float64Array(width);
  const bdelta = new Float64Array(width);
  for (let x = 0; x < width; x++) {
    adelta[x] = roundHalfEven(inv[0] * x * AB_SCALE);
    bdelta[x] = roundHalfEven(inv[3] * x * AB_SCALE);
  }
  const out = new Uint8Array(width * height * 3);
  const pixel = (px: number, py: number, c: number): number =>
    px >= 0 && px < sw && py >= 0 && py < sh ? data[(py * sw + px) * 3 + c]! : border[c]!;
  for (let y = 0; y < height; y++) {
    const x0 = roundHalfEven((inv[1] * y + inv[2]) * AB_SCALE) + ROUND_DELTA;
    const y0 = roundHalfEven((inv[4] * y + inv[5]) * AB_SCALE) + ROUND_DELTA;
    for (let x = 0; x < width; x++) {
      const fxFixed = Math.floor((x0 + adelta[x]!) / (1 << (AB_BITS - INTER_BITS)));
      const fyFixed = Math.floor((y0 + bdelta[x]!) / (1 << (AB_BITS - INTER_BITS)));
      const sx = Math.floor(fxFixed / INTER_TAB);
      const sy = Math.floor(fyFixed / INTER_TAB);
      const ax = fxFixed - sx * INTER_TAB;
      const ay = fyFixed - sy * INTER_TAB;
      // Weights (32 - a) and a per axis, times 32: exact in 1/32768, so no table correction is needed.
      const w00 = (INTER_TAB - ax) * (INTER_TAB - ay) * INTER_TAB;
      const w01 = ax * (INTER_TAB - ay) * INTER_TAB;
      const w10 = (INTER_TAB - ax) * ay * INTER_TAB;
      const w11 = ax * ay * INTER_TAB;
      const o = (y * width + x) * 3;
      if (sx >= 0 && sy >= 0 && sx + 1 < sw && sy + 1 < sh) {
        const a = (sy * sw + sx) * 3;
        const b = a + sw * 3;
        for (let c = 0; c < 3; c++) {
          const sum = data[a + c]! * w00 + data[a + 3 + c]! * w01 + data[b + c]! * w10 + data[b + 3 + c]! * w11;
          out[o + c] = (sum + (1 << 14)) >> 15;
        }
      } else {
        for (let c = 0; c < 3; c++) {
          const sum = pixel(sx, sy, c) * w00 + pixel(sx + 1, sy, c) * w01 + pixel(sx, sy + 1, c) * w10 + pixel(sx + 1, sy + 1, c) * w11;
          out[o + c] = (sum + (1 << 14)) >> 15;
        }
      }
    }
  }
  return { width, height, data: out };
}
