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
  // Source offsets and weights per output value (x and channel), so the inner loops are flat.
  const offset0 = new Int32Array(rowWidth), offset1 = new Int32Array(rowWidth);
  const alpha0 = new Int32Array(rowWidth), alpha1 = new Int32Array(rowWidth);
  for (let x = 0; x < width; x++) {
    for (let c = 0; c < 3; c++) {
      const i = x * 3 + c;
      offset0[i] = xs.index[x]! * 3 + c;
      offset1[i] = xs.w1[x] === 0 ? offset0[i]! : offset0[i]! + 3;
      alpha0[i] = xs.w0[x]!;
      alpha1[i] = xs.w1[x]!;
    }
  }
  // Horizontal sums of the source rows in use, two at a time: output rows walk the source downwards.
  const rows: { index: number; sums: Int32Array }[] = [{ index: -1, sums: new Int32Array(rowWidth) }, { index: -1, sums: new Int32Array(rowWidth) }];
  const rowAt = (r: number): Int32Array => {
    const index = Math.min(Math.max(r, 0), sh - 1);
    const hit = rows.find((row) => row.index === index);
    if (hit) return hit.sums;
    const slot = rows[0]!.index < rows[1]!.index ? rows[0]! : rows[1]!;
    const base = index * sw * 3;
    for (let i = 0; i < rowWidth; i++) slot.sums[i] = data[base + offset0[i]!]! * alpha0[i]! + data[base + offset1[i]!]! * alpha1[i]!;
    slot.index = index;
    return slot.sums;
  };
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const s0 = rowAt(ys.index[y]!);
    const s1 = rowAt(ys.index[y]! + 1);
    const b0 = ys.w0[y]!;
    const b1 = ys.w1[y]!;
    const o = y * rowWidth;
    for (let i = 0; i < rowWidth; i++) {
      // Products stay below 2^31: (522240 >> 4) * 2048. The Uint8Array clamps below 0 only by wrapping, and
      // the weighted mean of bytes never leaves 0..255, so no clamp is needed.
      out[o + i] = ((((s0[i]! >> 4) * b0) >> 16) + (((s1[i]! >> 4) * b1) >> 16) + 2) >> 2;
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
