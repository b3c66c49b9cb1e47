import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { relativeBound } from "../../test/float-bounds.js";
import { differing, goldenFloats } from "../../test/support/inpaint-goldens.js";
import { casePhoto, packedBytes, SOFTEDGE_GOLDENS_DIR, softedgeGoldens, type SoftedgeCase } from "../../test/support/softedge-goldens.js";
import { resizeForAnnotator } from "../preprocess/annotator-resize.js";
import { edgeLevel, safeStep } from "../preprocess/edge-levels.js";
import { resizeGrayLinear } from "../preprocess/output-resize.js";
import { Graph } from "../runtime/onnx.js";
import { detectEdges, runEdgeGraph, type EdgeDetectorName } from "./edge-detector.js";

/**
 * The committed tiny-random graphs (make_goldens.py exported them with infra/export's annotators package) against
 * the reference maps the script computed with the same networks in torch, through annotators/reference.py.
 *
 * The network is the only inexact step: onnxruntime here and torch there sum in different orders. Their edges
 * differ by at most relativeBound(roundings, logitScale) (test/float-bounds.ts; the graph's rounding count at the
 * detect size and the largest |logit| its sigmoid sees, both stored per case), so each reference byte lies between
 * the bytes of (our edge - bound) and (our edge + bound): the byte functions are monotone. Where those agree, which
 * is almost everywhere, the bytes must be equal; elsewhere the reference may take either. Every other step
 * (resizes, safe_step, rounding) is exact, and the last resize (cv2.INTER_LINEAR: weights summing to one in fixed
 * point, then one rounding) moves no output further than the largest spread among its 2x2 source pixels.
 */
const graphs = new Map<EdgeDetectorName, Graph>();

beforeAll(async () => {
  for (const name of ["pidinet", "hed"] as const)
    graphs.set(name, await Graph.load(name, `${SOFTEDGE_GOLDENS_DIR}/${name}.onnx`, { provider: "cpu" }));
});

afterAll(async () => {
  for (const g of graphs.values()) await g.release();
});

const graphOf = (name: EdgeDetectorName) => {
  const g = graphs.get(name);
  if (!g) throw new Error(`graph ${name} not loaded`);
  return g;
};

const byteOf = (safe: boolean) => (edge: number) => edgeLevel(safe ? safeStep(edge) : edge);

/** Per detect-size pixel, the lowest and highest byte the reference may hold given our edge and the bound. */
function referenceRange(edge: Float32Array, bound: number, safe: boolean): { low: Uint8Array; high: Uint8Array } {
  const byte = byteOf(safe);
  return { low: Uint8Array.from(edge, (e) => byte(e - bound)), high: Uint8Array.from(edge, (e) => byte(e + bound)) };
}

/** cv2.INTER_LINEAR's source pixels along one axis for output index i: floor((i + 0.5) * in / out - 0.5) and the next, clamped. */
function linearSources(i: number, inSize: number, outSize: number): number[] {
  const x = Math.floor(((i + 0.5) * inSize) / outSize - 0.5);
  return [x, x + 1].map((v) => Math.min(inSize - 1, Math.max(0, v)));
}

const label = (c: SoftedgeCase, safe?: boolean) =>
  `${c.detector}, ${c.crop ? `crop ${c.crop.join(",")}` : "whole photo"}, detect ${c.detectResolution}, image ${c.imageResolution}` +
  (safe === undefined ? "" : safe ? ", safe" : "");

describe.each(softedgeGoldens.cases)(
  "the soft-edge detector on chelsea.png ($detector, detect $detectResolution, image $imageResolution)",
  (c) => {
    const bound = relativeBound(c.roundings, c.logitScale);

    it("has a bound under half a level, so each pixel has at most two candidate bytes", () => {
      expect(bound * 255).toBeLessThan(0.5);
    });

    it("gives the reference bytes at the detect size wherever the bound leaves one candidate", async () => {
      const edge = await runEdgeGraph(graphOf(c.detector), resizeForAnnotator(await casePhoto(c), c.detectResolution));
      for (const out of c.outputs) {
        const reference = packedBytes(out.detectMap);
        const { low, high } = referenceRange(edge, bound, out.safe);
        let outside = 0;
        let open = 0;
        for (let i = 0; i < reference.length; i++) {
          const r = reference[i] ?? 0;
          if (r < (low[i] ?? 0) || r > (high[i] ?? 0)) outside++;
          if (low[i] !== high[i]) open++;
        }
        expect(outside, `${label(c, out.safe)}: ${open} of ${reference.length} pixels within the bound of a boundary`).toBe(0);
      }
    });

    it("resizes the reference's detect-size map to its returned map byte for byte (the INTER_LINEAR step alone)", () => {
      for (const out of c.outputs) {
        const detected = { width: c.detectWidth, height: c.detectHeight, data: packedBytes(out.detectMap) };
        const resized = resizeGrayLinear(detected, out.width, out.height);
        expect(differing(resized.data, packedBytes(out.edgeMap)), label(c, out.safe)).toBe(0);
      }
    });

    it("returns controlnet_aux's map: its size, and its bytes within the spread the bound allows among each pixel's sources", async () => {
      const photo = await casePhoto(c);
      const edge = await runEdgeGraph(graphOf(c.detector), resizeForAnnotator(photo, c.detectResolution));
      for (const out of c.outputs) {
        const map = await detectEdges(graphOf(c.detector), photo, {
          detectResolution: c.detectResolution,
          imageResolution: c.imageResolution,
          safe: out.safe,
        });
        expect([map.width, map.height], label(c, out.safe)).toEqual([out.width, out.height]);
        const reference = packedBytes(out.edgeMap);
        const { low, high } = referenceRange(edge, bound, out.safe);
        let beyond = 0;
        for (let y = 0; y < out.height; y++)
          for (let x = 0; x < out.width; x++) {
            let spread = 0;
            for (const sy of linearSources(y, c.detectHeight, out.height))
              for (const sx of linearSources(x, c.detectWidth, out.width)) {
                const s = sy * c.detectWidth + sx;
                spread = Math.max(spread, (high[s] ?? 0) - (low[s] ?? 0));
              }
            const i = y * out.width + x;
            if (Math.abs((map.data[i] ?? 0) - (reference[i] ?? 0)) > spread) beyond++;
          }
        expect(beyond, label(c, out.safe)).toBe(0);
      }
    });
  },
);

describe("the edge graph's input", () => {
  it("is every byte / 255 as numpy's float32 division gives it", async () => {
    const pixels = goldenFloats(softedgeGoldens.rounding.pixels);
    const seen: Float32Array[] = [];
    const recording = {
      run: async (feeds: Parameters<Graph["run"]>[0]) => {
        if (feeds.image?.data instanceof Float32Array) seen.push(feeds.image.data);
        return graphOf("pidinet").run(feeds);
      },
    };
    // A 16x16 image whose red, green and blue each run through every byte, row by row.
    const data = new Uint8Array(256 * 3).map((_, i) => Math.floor(i / 3));
    await runEdgeGraph(recording, { width: 16, height: 16, data });
    const fed = seen[0] ?? new Float32Array();
    for (let c = 0; c < 3; c++) expect(differing(fed.subarray(c * 256, (c + 1) * 256), pixels), `channel ${c}`).toBe(0);
  });
});
