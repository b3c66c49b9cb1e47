import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTinyBundle, TINY_BUNDLE } from "../../test/reference.js";
import { SOFTEDGE_GOLDENS_DIR } from "../../test/support/softedge-goldens.js";
import type { GrayImage } from "../preprocess/gray-image.js";
import type { ModelBundle } from "../runtime/bundle.js";
import { decodeImage, type RgbImage } from "../runtime/image.js";
import { CARD_EDGE_OPTIONS, detectEdges, EDGE_DETECTORS } from "./edge-detector.js";

// The tiny bundle's own `pidinet` and `hed` graphs (manifest edge_detectors) through the detector pipeline with the
// EcomXL Softedge card's options, on a real photo. Random weights: the edges mean nothing, so what is checked is
// what holds whatever the weights: the map's size follows controlnet_aux's rules and it is a map, not a constant.
let bundle: ModelBundle;
let chelsea: RgbImage;
beforeAll(async () => {
  bundle = await openTinyBundle();
  chelsea = await decodeImage(new Uint8Array(readFileSync("test/fixtures/images/chelsea.png")));
});
afterAll(() => bundle.release());

const maps = new Map<string, GrayImage>();
async function edgesOf(detector: (typeof EDGE_DETECTORS)[number]): Promise<GrayImage> {
  let map = maps.get(detector);
  if (!map) {
    const entry = bundle.manifest.edge_detectors?.[detector];
    if (!entry) throw new Error(`the tiny bundle has no ${detector} edge detector`);
    map = await detectEdges(await bundle.graph(entry.graph), chelsea, CARD_EDGE_OPTIONS);
    maps.set(detector, map);
  }
  return map;
}

describe("the tiny bundle's edge detectors", () => {
  it("declares both, each naming its graph and a licensed source", () => {
    for (const detector of EDGE_DETECTORS) {
      const entry = bundle.manifest.edge_detectors?.[detector];
      expect(entry?.graph).toBe(detector);
      expect(bundle.manifest.licences[entry?.source ?? ""]).toBeDefined();
    }
  });

  it.each(EDGE_DETECTORS)("%s: maps chelsea.png at controlnet_aux's size, with edges that vary", async (detector) => {
    expect([chelsea.width, chelsea.height]).toEqual([451, 300]);
    const map = await edgesOf(detector);
    // resize_image at detect_resolution 512: k = 512 / 300; 451k / 64 = 12.03 -> 12 tiles (768 px), 300k / 64 = 8
    // (512 px). Then at image_resolution 512 on that 768x512 image: k = 1, the same size.
    expect([map.width, map.height]).toEqual([768, 512]);
    expect(map.data).toHaveLength(768 * 512);
    // Not constant, nor a handful of levels: the bundle's tiny networks have their last layer scaled for contrast
    // (infra/export ecomid_export/tiny/edge_detectors.py), so the map spreads over most of 0..255.
    const levels = new Set(map.data);
    expect(levels.size).toBeGreaterThan(64);
    expect(Math.max(...levels) - Math.min(...levels)).toBeGreaterThan(128);
  });

  it("runs two different networks: the pidinet and hed maps differ", async () => {
    const [pidinet, hed] = [await edgesOf("pidinet"), await edgesOf("hed")];
    expect(Buffer.from(pidinet.data).equals(Buffer.from(hed.data))).toBe(false);
  });

  it("ships the very graphs the detector goldens were made with, so edge-detector.test.ts's parity covers them", () => {
    for (const detector of EDGE_DETECTORS) {
      const file = bundle.manifest.graphs[detector]?.file ?? "";
      const shipped = readFileSync(join(TINY_BUNDLE, file));
      const golden = readFileSync(join(SOFTEDGE_GOLDENS_DIR, `${detector}.onnx`));
      expect(shipped.equals(golden), `${file} is ${SOFTEDGE_GOLDENS_DIR}/${detector}.onnx`).toBe(true);
    }
  });
});
