import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { AffineMatrix } from "./affine.js";
import { cv, withMats, type Mat } from "./opencv.js";
import { ellipse2Poly, fillCircle, fillConvexPoly, type IntPoint } from "./raster.js";
import { resizeLinear } from "./resize-linear.js";
import { warpAffine } from "./warp-affine.js";

/** Goldens written by test/goldens/faces/make_goldens.py with the reference's cv2 (4.13). */
const goldens = JSON.parse(readFileSync("gpu-function/test/goldens/faces/cv2-goldens.json", "utf8")) as {
  sinTable: number[];
  resize: { width: number; height: number; outWidth: number; outHeight: number; src: string; dst: string }[];
  warp: { width: number; height: number; matrix: number[]; border: [number, number, number]; src: string; dst: string }[];
  size: number;
  ellipses: { center: IntPoint; axes: IntPoint; angle: number; points: IntPoint[] }[];
  polygons: { points: IntPoint[]; mask: string }[];
  circles: { center: IntPoint; radius: number; mask: string }[];
};
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, "base64"));

function differing(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

function maskOf(draw: (c: Mat) => void): Uint8Array {
  const canvas = cv.Mat.zeros(goldens.size, goldens.size, cv.CV_8UC1);
  return withMats([canvas], () => {
    draw(canvas);
    return canvas.data.map((v) => (v > 0 ? 1 : 0));
  });
}

describe("the face preprocessing gives what the reference's cv2 gives, pixel for pixel", () => {
  it("resizes like cv2.resize INTER_LINEAR, bit for bit (up, down, odd sizes, exact half)", () => {
    for (const g of goldens.resize) {
      const out = resizeLinear({ width: g.width, height: g.height, data: bytes(g.src) }, g.outWidth, g.outHeight);
      expect(differing(out.data, bytes(g.dst)), `${g.width}x${g.height} -> ${g.outWidth}x${g.outHeight}`).toBe(0);
    }
  });

  it("warps like cv2.warpAffine (bilinear, constant border), bit for bit", () => {
    for (const g of goldens.warp) {
      const out = warpAffine(
        { width: g.width, height: g.height, data: bytes(g.src) },
        g.matrix as unknown as AffineMatrix,
        33,
        29,
        g.border,
      );
      expect(differing(out.data, bytes(g.dst)), `matrix ${g.matrix}`).toBe(0);
    }
  });

  it("gives cv2.ellipse2Poly's points, including negative and >360 angles and zero axes", () => {
    for (const g of goldens.ellipses) {
      expect(ellipse2Poly(g.center, g.axes, g.angle, 0, 360, 1), JSON.stringify(g)).toEqual(g.points);
    }
  });

  it("fills convex polygons like cv2.fillConvexPoly, clipped at the borders", () => {
    for (const g of goldens.polygons) {
      const mask = maskOf((c) => fillConvexPoly(c, g.points, [1]));
      expect(differing(mask, bytes(g.mask)), JSON.stringify(g.points.slice(0, 3))).toBe(0);
    }
  });

  it("fills circles like cv2.circle(thickness=-1), clipped at the borders", () => {
    for (const g of goldens.circles) {
      const mask = maskOf((c) => fillCircle(c, g.center, g.radius, [1]));
      expect(differing(mask, bytes(g.mask)), `circle ${g.center} r${g.radius}`).toBe(0);
    }
  });
});
