/**
 * A detector's float32 edge probabilities to bytes, as controlnet_aux 0.0.10 does it in numpy float32
 * (util.py safe_step, then `(edge * 255.0).clip(0, 255).astype(np.uint8)` in pidi/__init__.py and hed/__init__.py):
 * each product is rounded to float32 (Math.fround) before it is truncated, as numpy's float32 multiply rounds it.
 * (Checking every float32 within 8 steps of each k/255 and k/3, the only places it could matter, found none where
 * it moves a truncation; it is kept so the arithmetic is numpy's rather than a coincidence of these constants.)
 */

/** util.py safe_step(x, step=2): trunc(float32(x * 3)) / 2, so the map takes only 0, 0.5, 1 and 1.5. */
export function safeStep(edge: number): number {
  return Math.trunc(Math.fround(edge * 3)) / 2;
}

/** float32(edge * 255) clipped to 0..255 and truncated toward zero (numpy's astype(uint8) after clip). */
export function edgeLevel(edge: number): number {
  return Math.trunc(Math.min(255, Math.max(0, Math.fround(edge * 255))));
}

/** The edge map's bytes: edgeLevel of each value, after safeStep when `safe` (the card's default is off). */
export function edgeLevels(edge: Float32Array, safe: boolean): Uint8Array {
  const out = new Uint8Array(edge.length);
  for (let i = 0; i < edge.length; i++) {
    const e = edge[i] ?? 0;
    out[i] = edgeLevel(safe ? safeStep(e) : e);
  }
  return out;
}
