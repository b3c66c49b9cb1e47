import { describe, expect, it } from "vitest";
import { nms, type Box } from "./nms.js";
import { bySize, decodeScrfd } from "./scrfd-decode.js";

const options = { size: 64, scale: 0.5, strides: [8, 16, 32], anchorsPerCell: 2, scoreThreshold: 0.5, nmsThreshold: 0.4 };

/** Empty head outputs at size 64, with one anchor set per call. */
function outputs() {
  const anchors = [8, 16, 32].map((s) => 2 * (64 / s) ** 2);
  return {
    scores: anchors.map((n) => new Float32Array(n)),
    boxes: anchors.map((n) => new Float32Array(4 * n)),
    keypoints: anchors.map((n) => new Float32Array(10 * n)),
  };
}

describe("decodeScrfd", () => {
  it("places anchors at (col, row) * stride, two per cell, and scales back to source pixels", () => {
    const out = outputs();
    // Stride 16 has 4 x 4 cells; anchor 13 is cell 6 = (col 2, row 1), centre (32, 16).
    out.scores[1]![13] = 0.9;
    out.boxes[1]!.set([1, 0.5, 1, 0.5], 13 * 4);
    out.keypoints[1]!.set([0.25, 0, 0, 0, 0, 0, 0, 0, 0, 0], 13 * 10);
    const [face, ...rest] = decodeScrfd(out, options);
    expect(rest).toHaveLength(0);
    expect(face!.box).toEqual({ x1: 32, y1: 16, x2: 96, y2: 48, score: Math.fround(0.9) });
    expect(face!.keypoints[0]).toEqual([72, 32]);
    expect(face!.keypoints[1]).toEqual([64, 32]);
  });

  it("drops scores below the threshold and keeps those equal to it", () => {
    const out = outputs();
    out.scores[0]![0] = 0.4999;
    out.scores[0]![5] = 0.5;
    expect(decodeScrfd(out, options)).toHaveLength(1);
  });

  it("refuses outputs that do not match the detection size", () => {
    const out = outputs();
    out.scores[2] = new Float32Array(3);
    expect(() => decodeScrfd(out, options)).toThrow(/stride 32 at size 64/);
  });
});

describe("nms", () => {
  const box = (x1: number, y1: number, x2: number, y2: number, score: number): Box => ({ x1, y1, x2, y2, score });

  it("keeps the best box and drops overlaps above the threshold, using +1 pixel areas", () => {
    // IoU with +1 areas: 10x10 boxes offset by 3 overlap 8*11 = 88 / (121 + 121 - 88) = 0.571.
    const boxes = [box(0, 0, 10, 10, 0.9), box(3, 0, 13, 10, 0.8), box(30, 30, 40, 40, 0.7)];
    expect(nms(boxes, 0.4)).toEqual([0, 2]);
    expect(nms(boxes, 0.6)).toEqual([0, 1, 2]);
  });

  it("counts touching boxes as overlapping by one pixel column", () => {
    // [0, 10] and [10, 20] share x = 10: overlap 1 x 11 = 11 of 121 + 121 - 11.
    expect(nms([box(0, 0, 10, 10, 0.9), box(10, 0, 20, 10, 0.8)], 11 / 231 - 1e-9)).toEqual([0]);
  });
});

describe("bySize", () => {
  it("orders faces largest first, keeping score order on ties", () => {
    const face = (w: number, score: number) => ({ box: { x1: 0, y1: 0, x2: w, y2: w, score }, keypoints: [] });
    const sorted = bySize([face(5, 0.9), face(10, 0.8), face(5, 0.7)]);
    expect(sorted.map((f) => f.box.score)).toEqual([0.8, 0.9, 0.7]);
  });
});
