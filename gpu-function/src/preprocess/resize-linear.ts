import type { RgbImage } from "../runtime/image.js";

/**
 * cv2.resize(src, (w, h)) with INTER_LINEAR on 8-bit images, bit for bit (OpenCV 4.13, checked by
 * the goldens in test/goldens/faces): 11-bit fixed-point coefficients from float32 source positions,
 * a horizontal pass into int sums, then the SIMD vertical pass ((S >> 4) * beta >> 16, summed,
 * rounded by 2 bits). Columns are clamped at the borders (weight moved to the edge pixel), rows are
 * not (an edge row is used twice with both weights), which is what makes OpenCV's edges differ.
 * An exact 2x downscale takes OpenCV's INTER_AREA shortcut, as cv2 does.
 */
const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS;

interface Taps {
  index: Int32Array;
  w0: Int32Array;
  w1: Int32Array;
}

function taps(src: number, dst: number, clampEdges: boolean): Taps {
  const scale = 1 / (dst / src);
  const index = new Int32Array(dst);
  const w0 = new Int32Array(dst);
  const w1 = new Int32Array(dst);
  for (let d = 0; d < dst; d++) {
    // OpenCV computes the position in double, stores it in a float, then splits it.
    const pos = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(pos);
    let f = Math.fround(pos - s);
    if (clampEdges && s < 0) (s = 0), (f = 0);
    if (clampEdges && s >= src - 1) (s = src - 1), (f = 0);
    index[d] = s;
    w0[d] = Math.round(Math.fround(1 - f) * COEF_SCALE);
    w1[d] = Math.round(f * COEF_SCALE);
  }
  return { index, w0, w1 };
}

export function resizeLinear(src: RgbImage, width: number, height: number): RgbImage {
  if (width === src.width && height === src.height) return { width, height, data: src.data.slice() };
  if (src.width === 2 * width && src.height === 2 * height) return halve(src);
  const { width: sw, height: sh, data } = src;
  const xs = taps(sw, width, true);
  const ys = taps(sh, height, false);
  const rowWidth = width * 3;
  const horizontal = (row: number): Int32Array => {
    const out = new Int32Array(rowWidth);
    const base = row * sw * 3;
    for (let x = 0; x < width; x++) {
      const a = base + xs.index[x]! * 3;
      const b = xs.w1[x] === 0 ? a : a + 3;
      for (let c = 0; c < 3; c++) out[x * 3 + c] = data[a + c]! * xs.w0[x]! + data[b + c]! * xs.w1[x]!;
    }
    return out;
  };
  const cache = new Map<number, Int32Array>();
  const rowAt = (r: number): Int32Array => {
    const clamped = Math.min(Math.max(r, 0), sh - 1);
    let row = cache.get(clamped);
    if (!row) {
      row = horizontal(clamped);
      cache.set(clamped, row);
      cache.delete(clamped - 2);
    }
    return row;
  };
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const s0 = rowAt(ys.index[y]!);
    const s1 = rowAt(ys.index[y]! + 1);
    const b0 = ys.w0[y]!;
    const b1 = ys.w1[y]!;
    const o = y * rowWidth;
    for (let i = 0; i < rowWidth; i++) {
      // Products stay below 2^31: (522240 >> 4) * 2048.
      const v = (((s0[i]! >> 4) * b0) >> 16) + (((s1[i]! >> 4) * b1) >> 16);
      out[o + i] = Math.min(255, Math.max(0, (v + 2) >> 2));
    }
  }
  return { width, height, data: out };
}

/** OpenCV's INTER_AREA fast path for an exact half: the rounded mean of each 2x2 block. */
function halve(src: RgbImage): RgbImage {
  const width = src.width / 2;
  const height = src.height / 2;
  const out = new Uint8Array(width * height * 3);
  const stride = src.width * 3;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const a = 2 * y * stride + 2 * x * 3;
      for (let c = 0; c < 3; c++) {
        const sum = src.data[a + c]! + src.data[a + 3 + c]! + src.data[a + stride + c]! + src.data[a + stride + 3 + c]!;
        out[(y * width + x) * 3 + c] = (sum + 2) >> 2;
      }
    }
  }
  return { width, height, data: out };
}
