import { roundHalfEven } from "./cv-round.js";

/**
 * The few OpenCV drawing routines InstantID's draw_kps uses, reproduced pixel for pixel for
 * integer coordinates (shift 0, LINE_8): ellipse2Poly, fillConvexPoly (outline + scanlines),
 * the 8-connected Bresenham line with its border clipping, and the filled circle.
 * Images are HWC with any channel count; colours are written as given (no blending).
 */
export interface Canvas<T extends Float64Array | Uint8Array = Float64Array | Uint8Array> {
  width: number;
  height: number;
  channels: number;
  data: T;
}

export type IntPoint = [number, number];

/** OpenCV's sine table in whole degrees 0..450: sin rounded to 7 decimals, stored as float32. */
const SIN_TABLE = Float32Array.from({ length: 451 }, (_, k) => Number(Math.sin((k * Math.PI) / 180).toFixed(7)));

/** cv2.ellipse2Poly(center, axes, angle, arcStart, arcEnd, delta) with integer inputs. */
export function ellipse2Poly(center: IntPoint, axes: IntPoint, angle: number, arcStart: number, arcEnd: number, delta: number): IntPoint[] {
  while (angle < 0) angle += 360;
  while (angle > 360) angle -= 360;
  if (arcStart > arcEnd) [arcStart, arcEnd] = [arcEnd, arcStart];
  while (arcStart < 0) (arcStart += 360), (arcEnd += 360);
  while (arcEnd > 360) (arcEnd -= 360), (arcStart -= 360);
  if (arcEnd - arcStart > 360) (arcStart = 0), (arcEnd = 360);
  const cos = SIN_TABLE[450 - angle]!;
  const sin = SIN_TABLE[angle]!;
  const points: IntPoint[] = [];
  for (let i = arcStart; i < arcEnd + delta; i += delta) {
    let a = Math.min(i, arcEnd);
    if (a < 0) a += 360;
    const x = axes[0] * SIN_TABLE[450 - a]!;
    const y = axes[1] * SIN_TABLE[a]!;
    const p: IntPoint = [roundHalfEven(center[0] + x * cos - y * sin), roundHalfEven(center[1] + x * sin + y * cos)];
    const last = points[points.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) points.push(p);
  }
  // A zero-size ellipse is still a (degenerate) polygon of two points.
  if (points.length === 1) return [[center[0], center[1]], [center[0], center[1]]];
  return points;
}

function hline(c: Canvas, y: number, x1: number, x2: number, color: readonly number[]): void {
  for (let x = x1; x <= x2; x++) {
    const o = (y * c.width + x) * c.channels;
    for (let k = 0; k < c.channels; k++) c.data[o + k] = color[k] ?? 0;
  }
}

/** cv::clipLine: endpoints moved onto the image rectangle (truncating divisions); false when the line misses it. */
function clipLine(width: number, height: number, p1: IntPoint, p2: IntPoint): boolean {
  const right = width - 1, bottom = height - 1;
  let [x1, y1] = p1;
  let [x2, y2] = p2;
  const code = (x: number, y: number) => (x < 0 ? 1 : 0) + (x > right ? 2 : 0) + (y < 0 ? 4 : 0) + (y > bottom ? 8 : 0);
  let c1 = code(x1, y1), c2 = code(x2, y2);
  if ((c1 & c2) === 0 && (c1 | c2) !== 0) {
    if (c1 & 12) {
      const a = c1 < 8 ? 0 : bottom;
      x1 += Math.trunc(((a - y1) * (x2 - x1)) / (y2 - y1));
      y1 = a;
      c1 = (x1 < 0 ? 1 : 0) + (x1 > right ? 2 : 0);
    }
    if (c2 & 12) {
      const a = c2 < 8 ? 0 : bottom;
      x2 += Math.trunc(((a - y2) * (x2 - x1)) / (y2 - y1));
      y2 = a;
      c2 = (x2 < 0 ? 1 : 0) + (x2 > right ? 2 : 0);
    }
    if ((c1 & c2) === 0 && (c1 | c2) !== 0) {
      if (c1) {
        const a = c1 === 1 ? 0 : right;
        y1 += Math.trunc(((a - x1) * (y2 - y1)) / (x2 - x1));
        x1 = a;
        c1 = 0;
      }
      if (c2) {
        const a = c2 === 1 ? 0 : right;
        y2 += Math.trunc(((a - x2) * (y2 - y1)) / (x2 - x1));
        x2 = a;
        c2 = 0;
      }
    }
  }
  p1[0] = x1; p1[1] = y1; p2[0] = x2; p2[1] = y2;
  return (c1 | c2) === 0;
}

/** cv::line with LINE_8 and thickness 1: LineIterator, drawn left to right. */
export function drawLine(c: Canvas, from: IntPoint, to: IntPoint, color: readonly number[]): void {
  let p1: IntPoint = [from[0], from[1]];
  let p2: IntPoint = [to[0], to[1]];
  const outside = (p: IntPoint) => p[0] < 0 || p[0] >= c.width || p[1] < 0 || p[1] >= c.height;
  if ((outside(p1) || outside(p2)) && !clipLine(c.width, c.height, p1, p2)) return;
  let dx = p2[0] - p1[0];
  let dy = p2[1] - p1[1];
  if (dx < 0) {
    [p1, p2] = [p2, p1];
    dx = -dx;
    dy = -dy;
  }
  let stepX = 1, stepY = 1;
  if (dy < 0) (dy = -dy), (stepY = -1);
  const vertical = dy > dx;
  if (vertical) [dx, dy] = [dy, dx];
  // Each step moves along the major axis; when err < 0 it moves along the minor axis too.
  let err = dx - 2 * dy;
  let [x, y] = p1;
  for (let i = 0; i <= dx; i++) {
    hline(c, y, x, x, color);
    const diagonal = err < 0;
    err += diagonal ? 2 * dx - 2 * dy : -2 * dy;
    if (vertical) {
      y += stepY;
      if (diagonal) x += stepX;
    } else {
      x += stepX;
      if (diagonal) y += stepY;
    }
  }
}

const XY_SHIFT = 16;
const XY_ONE = 1 << XY_SHIFT;

/** cv2.fillConvexPoly(img, points, color) with LINE_8 and shift 0: outline lines, then scanlines between two walking edges. */
export function fillConvexPoly(c: Canvas, v: readonly IntPoint[], color: readonly number[]): void {
  const n = v.length;
  let imin = 0;
  let xmin = v[0]![0], xmax = xmin, ymin = v[0]![1], ymax = ymin;
  let p0 = v[n - 1]!;
  for (let i = 0; i < n; i++) {
    const p = v[i]!;
    if (p[1] < ymin) (ymin = p[1]), (imin = i);
    ymax = Math.max(ymax, p[1]);
    xmax = Math.max(xmax, p[0]);
    xmin = Math.min(xmin, p[0]);
    drawLine(c, p0, p, color);
    p0 = p;
  }
  if (n < 3 || xmax < 0 || ymax < 0 || xmin >= c.width || ymin >= c.height) return;
  ymax = Math.min(ymax, c.height - 1);
  // Edge x positions are 16.16 fixed point; BigInt is not needed: |x| * 2^16 stays far below 2^53.
  const edges = [
    { idx: imin, di: 1, x: -XY_ONE, dx: 0, ye: ymin },
    { idx: imin, di: n - 1, x: -XY_ONE, dx: 0, ye: ymin },
  ];
  let remaining = n;
  let y = ymin;
  do {
    for (const e of edges) {
      if (y < e.ye) continue;
      let idx0 = e.idx;
      let idx = idx0 + e.di;
      if (idx >= n) idx -= n;
      while (remaining-- > 0) {
        const ty = v[idx]![1];
        if (ty > y) {
          const xs = v[idx0]![0] * XY_ONE;
          const xe = v[idx]![0] * XY_ONE;
          e.ye = ty;
          // C integer division truncates toward zero.
          e.dx = Math.trunc(((xe - xs) * 2 + (ty - y)) / (2 * (ty - y)));
          e.x = xs;
          e.idx = idx;
          break;
        }
        idx0 = idx;
        idx += e.di;
        if (idx >= n) idx -= n;
      }
    }
    if (remaining < 0) break;
    if (y >= 0) {
      const [left, right] = edges[0]!.x > edges[1]!.x ? [edges[1]!, edges[0]!] : [edges[0]!, edges[1]!];
      let x1 = Math.floor((left.x + XY_ONE / 2) / XY_ONE);
      let x2 = Math.floor((right.x + XY_ONE / 2) / XY_ONE);
      if (x2 >= 0 && x1 < c.width) {
        x1 = Math.max(x1, 0);
        x2 = Math.min(x2, c.width - 1);
        hline(c, y, x1, x2, color);
      }
    }
    edges[0]!.x += edges[0]!.dx;
    edges[1]!.x += edges[1]!.dx;
  } while (++y <= ymax);
}

/** cv2.circle(img, center, radius, color, -1): OpenCV's filled midpoint circle, clipped to the image. */
export function fillCircle(c: Canvas, center: IntPoint, radius: number, color: readonly number[]): void {
  const [cx, cy] = center;
  let err = 0, dx = radius, dy = 0, plus = 1, minus = 2 * radius - 1;
  const row = (y: number, x1: number, x2: number) => {
    if (y < 0 || y >= c.height || x2 < 0 || x1 >= c.width) return;
    hline(c, y, Math.max(x1, 0), Math.min(x2, c.width - 1), color);
  };
  while (dx >= dy) {
    row(cy - dy, cx - dx, cx + dx);
    row(cy + dy, cx - dx, cx + dx);
    row(cy - dx, cx - dy, cx + dy);
    row(cy + dx, cx - dy, cx + dy);
    dy++;
    err += plus;
    plus += 2;
    if (err > 0) {
      err -= minus;
      dx--;
      minus -= 2;
    }
  }
}
