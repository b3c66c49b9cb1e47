import type { RgbImage } from "../runtime/image.js";
import { cv, withMats } from "./opencv.js";
import { ellipse2Poly, fillCircle, fillConvexPoly, type IntPoint } from "./raster.js";
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
const STICKS: readonly [number, number][] = [
  [0, 2],
  [1, 2],
  [3, 2],
  [4, 2],
];

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
  if (keypoints.length !== style.colors.length)
    throw new RangeError(`drawKeypoints needs ${style.colors.length} keypoints, got ${keypoints.length}`);
  const sticks = STICKS.map(([end, nose]) => {
    const [x0, y0] = keypoints[end]!.map(f) as [number, number];
    const [x1, y1] = keypoints[nose]!.map(f) as [number, number];
    const length = Math.hypot(f(x0 - x1), f(y0 - y1));
    const angle = Math.atan2(f(y0 - y1), f(x0 - x1)) * RAD_TO_DEG;
    // np.mean of two float32 values is their float32 sum halved.
    const centre: IntPoint = [Math.trunc(f(x0 + x1) / 2), Math.trunc(f(y0 + y1) / 2)];
    return {
      polygon: ellipse2Poly(centre, [Math.trunc(length / 2), style.stickWidth], Math.trunc(angle), 0, 360, 1),
      color: style.colors[end]!,
    };
  });
  const joints = keypoints.map(([x, y], i) => ({ centre: [Math.trunc(f(x)), Math.trunc(f(y))] as IntPoint, color: style.colors[i]! }));
  // Everything drawn lies in one box; the rest of the canvas stays black. Drawing in that box alone
  // (OpenCV clips at the canvas edges, so the box is clipped to them too) gives the same pixels
  // without filling and copying a whole 12 MP canvas through WebAssembly memory.
  const r = style.circleRadius;
  const xs = [...sticks.flatMap((s) => s.polygon.map(([x]) => x)), ...joints.flatMap(({ centre: [x] }) => [x - r, x + r])];
  const ys = [...sticks.flatMap((s) => s.polygon.map(([, y]) => y)), ...joints.flatMap(({ centre: [, y] }) => [y - r, y + r])];
  const left = Math.max(0, Math.min(...xs)),
    right = Math.min(width - 1, Math.max(...xs));
  const top = Math.max(0, Math.min(...ys)),
    bottom = Math.min(height - 1, Math.max(...ys));
  const out = new Uint8Array(width * height * 3);
  if (left > right || top > bottom) return { width, height, data: out };
  const boxWidth = right - left + 1;
  const box = cv.Mat.zeros(bottom - top + 1, boxWidth, cv.CV_8UC3);
  const shift = ([x, y]: IntPoint): IntPoint => [x - left, y - top];
  return withMats([box], () => {
    // The reference fills a float64 canvas; colours are whole numbers written without blending, so a
    // uint8 canvas holds the same values, and the dimming maps 0..255 by table.
    for (const { polygon, color } of sticks) fillConvexPoly(box, polygon.map(shift), color);
    // (canvas * 0.6).astype(uint8): a double product, truncated (255 -> 153). The view is taken
    // after the drawing: a WebAssembly memory that grew would have detached an earlier one.
    const dim = Uint8Array.from({ length: 256 }, (_, v) => Math.trunc(v * style.stickDim));
    const drawn = box.data;
    for (let i = 0; i < drawn.length; i++) drawn[i] = dim[drawn[i]!]!;
    for (const { centre, color } of joints) fillCircle(box, shift(centre), style.circleRadius, color);
    const pixels = box.data;
    for (let y = top; y <= bottom; y++)
      out.set(pixels.subarray((y - top) * boxWidth * 3, (y - top + 1) * boxWidth * 3), (y * width + left) * 3);
    return { width, height, data: out };
  });
}
