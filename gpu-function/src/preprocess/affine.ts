/** A 2x3 affine matrix, row-major [a, b, c, d, e, f]: x' = a x + b y + c, y' = d x + e y + f. */
export type AffineMatrix = readonly [number, number, number, number, number, number];

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
