import type { AffineMatrix } from "./affine.js";

export type Point = readonly [number, number];

/**
 * Least-squares similarity (rotation, uniform scale, translation; never a reflection) taking
 * `source` onto `target`: Umeyama (1991), as skimage's SimilarityTransform and the reference's
 * align.py estimate it. In 2-D the SVD of the 2x2 cross-covariance has a closed form, so no
 * general SVD is needed: with a rotation-plus-reflection split the optimum is explicit.
 */
export function similarityTransform(source: readonly Point[], target: readonly Point[]): AffineMatrix {
  const n = source.length;
  if (n < 2 || n !== target.length)
    throw new RangeError(`similarityTransform needs matching point lists of at least 2, got ${n} and ${target.length}`);
  let sx = 0,
    sy = 0,
    tx = 0,
    ty = 0;
  for (let i = 0; i < n; i++) {
    sx += source[i]![0];
    sy += source[i]![1];
    tx += target[i]![0];
    ty += target[i]![1];
  }
  sx /= n;
  sy /= n;
  tx /= n;
  ty /= n;
  // Cross-covariance C = sum(dst_c src_c^T) / n and the source variance.
  let c00 = 0,
    c01 = 0,
    c10 = 0,
    c11 = 0,
    variance = 0;
  for (let i = 0; i < n; i++) {
    const px = source[i]![0] - sx,
      py = source[i]![1] - sy;
    const qx = target[i]![0] - tx,
      qy = target[i]![1] - ty;
    c00 += qx * px;
    c01 += qx * py;
    c10 += qy * px;
    c11 += qy * py;
    variance += px * px + py * py;
  }
  c00 /= n;
  c01 /= n;
  c10 /= n;
  c11 /= n;
  variance /= n;
  // C = [[p + q, r - s], [r + s, p - q]] with a rotation part (p, s) and a reflection part (q, r):
  // singular values are |(p, s)| + |(q, r)| and |(p, s)| - |(q, r)|; Umeyama's sign fix (no reflection)
  // keeps the rotation that best aligns, angle atan2(s, p), and scale trace(D S) / var = 2 |(p, s)| / var.
  const p = (c00 + c11) / 2;
  const s = (c10 - c01) / 2;
  const rotationNorm = Math.hypot(p, s);
  if (rotationNorm === 0 || variance === 0) throw new RangeError("similarityTransform: degenerate points");
  const cos = p / rotationNorm;
  const sin = s / rotationNorm;
  const scale = (2 * rotationNorm) / variance;
  const a = scale * cos,
    b = -scale * sin,
    d = scale * sin,
    e = scale * cos;
  return [a, b, tx - (a * sx + b * sy), d, e, ty - (d * sx + e * sy)];
}
