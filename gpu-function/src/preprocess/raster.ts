import { cv, withMats, type Mat } from "./opencv.js";

export type IntPoint = [number, number];

/** cv2.ellipse2Poly: the polygon OpenCV draws an ellipse with. */
export function ellipse2Poly(center: IntPoint, axes: IntPoint, angle: number, arcStart: number, arcEnd: number, delta: number): IntPoint[] {
  const points = new cv.PointVector();
  try {
    cv.ellipse2Poly(new cv.Point(center[0], center[1]), new cv.Size(axes[0], axes[1]), angle, arcStart, arcEnd, delta, points);
    return Array.from({ length: points.size() }, (_, i) => {
      const p = points.get(i);
      return [p.x, p.y] as IntPoint;
    });
  } finally {
    points.delete();
  }
}

/** cv2.fillConvexPoly on an 8-bit canvas. */
export function fillConvexPoly(canvas: Mat, polygon: readonly IntPoint[], color: readonly number[]): void {
  const points = cv.matFromArray(polygon.length, 1, cv.CV_32SC2, polygon.flat());
  withMats([points], () => cv.fillConvexPoly(canvas, points, scalar(color)));
}

/** cv2.circle(..., thickness=-1) on an 8-bit canvas. */
export function fillCircle(canvas: Mat, center: IntPoint, radius: number, color: readonly number[]): void {
  cv.circle(canvas, new cv.Point(center[0], center[1]), radius, scalar(color), -1);
}

const scalar = (color: readonly number[]) => new cv.Scalar(color[0] ?? 0, color[1] ?? 0, color[2] ?? 0, 0);
