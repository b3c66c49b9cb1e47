import type { RgbImage } from "../runtime/image.js";
import { cv, withMats } from "./opencv.js";
import { ellipse2Poly, fillCircle, fillConvexPoly } from "./raster.js";
import type { Point } from "./similarity-transform.js";

export interface KeypointStyle {
  /** RGB per keypoint, in keypoint order. */
  colors: readonly (readonly [number, number, number])[];
  circleRadius: number;
  /** The stick ellipse's minor semi-axis. */
  stickWidth: number;
  /** Factor the sticks are multiplied by (then truncated to uint8) before the joints are drawn. */
  stickDim: number;
}

/** Sticks from eyes and mouth corners to the nose (index 2); each takes its non-nose end's colour. */
const STICKS: readonly [number, number][] = [[0, 2], [1, 2], [3, 2], [4, 2]];

const f = Math.fround;
/** Python's math.degrees multiplies by this constant (not * 180 / pi, which can differ in the last bit). */
const RAD_TO_DEG = 180 / Math.PI;

/**
 * InstantID's draw_kps on a black width x height canvas, pixel for pixel with the reference:
 * filled ellipse polygons for the sticks (1-degree steps), the whole image times stickDim truncated,
 * then filled circles at the truncated keypoints. Keypoints are float32 (as the detector gives
 * them); the stick centre, length and angle use the reference's float32 and int() truncations.
 */
export function drawKeypoints(width: number, height: number, keypoints: readonly Point[], style: KeypointStyle): RgbImage {
  if (keypoints.length !== style.colors.length) throw new RangeError(`drawKeypoints needs ${style.colors.length} keypoints, got ${keypoints.length}`);
  // The reference fills a float64 canvas; colours are whole numbers written without blending, so a
  // uint8 canvas holds the same values in an eighth of the memory, and the dimming maps 0..255 by table.
  const canvas = cv.Mat.zeros(height, width, cv.CV_8UC3);
  return withMats([canvas], () => {
    // Rows the sticks can touch: only those need dimming (a 12 MP canvas is mostly black).
    let top = height, bottom = -1;
    for (const [end, nose] of STICKS) {
      const [x0, y0] = keypoints[end]!.map(f) as [number, number];
      const [x1, y1] = keypoints[nose]!.map(f) as [number, number];
      const length = Math.hypot(f(x0 - x1), f(y0 - y1));
      const angle = Math.atan2(f(y0 - y1), f(x0 - x1)) * RAD_TO_DEG;
      // np.mean of two float32 values is their float32 sum halved.
      const centre: [number, number] = [Math.trunc(f(x0 + x1) / 2), Math.trunc(f(y0 + y1) / 2)];
      const polygon = ellipse2Poly(centre, [Math.trunc(length / 2), style.stickWidth], Math.trunc(angle), 0, 360, 1);
      fillConvexPoly(canvas, polygon, style.colors[end]!);
      for (const [, py] of polygon) (top = Math.min(top, py)), (bottom = Math.max(bottom, py));
    }
    // (canvas * 0.6).astype(uint8): a double product, truncated (255 -> 153). The view is taken
    // after the drawing: a WebAssembly memory that grew would have detached an earlier one.
    const dim = Uint8Array.from({ length: 256 }, (_, v) => Math.trunc(v * style.stickDim));
    const pixels = canvas.data;
    const from = Math.max(top, 0) * width * 3;
    const to = (Math.min(bottom, height - 1) + 1) * width * 3;
    for (let i = from; i < to; i++) pixels[i] = dim[pixels[i]!]!;
    keypoints.forEach(([x, y], i) => fillCircle(canvas, [Math.trunc(f(x)), Math.trunc(f(y))], style.circleRadius, style.colors[i]!));
    return { width, height, data: new Uint8Array(canvas.data) };
  });
}
