import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GpuJobSpec, ResolvedImage } from "@ecomid/shared/protocol";
import { openTinyBundle, TINY_BUNDLE } from "../../test/reference.js";
import type { ModelBundle } from "../runtime/bundle.js";
import { decodeImage } from "../runtime/image.js";
import { NO_CONTROL_IMAGES, type ControlImageBytes } from "./control-inputs.js";
import { EcomidPipeline } from "./ecomid.js";
import { localJobSpec } from "./local-job.js";

// Inpaint and softedge jobs through the whole pipeline on the tiny bundle (random weights: the generated pixels
// are noise, so what is checked is what the pipeline promises whatever the weights: kept pixels, masks, refusals).
const SIDE = 64;
const astronaut = new Uint8Array(readFileSync("test/fixtures/images/astronaut.png"));
const local: ResolvedImage = { url: "local", content_type: "image/png", sha256: "", bytes: 1 };

let bundle: ModelBundle;
let pipeline: EcomidPipeline;
let product: Uint8Array; // coffee.png brought to 64x64: the "product photo"
let productRgb: Uint8Array;
beforeAll(async () => {
  bundle = await openTinyBundle();
  pipeline = await EcomidPipeline.load(bundle);
  product = new Uint8Array(
    await sharp(readFileSync("test/fixtures/images/coffee.png")).resize(SIDE, SIDE, { fit: "fill" }).png().toBuffer(),
  );
  productRgb = (await decodeImage(product)).data;
});
afterAll(() => bundle.release());

/** White (generate) everywhere but a centred square "product" of side 2*half. */
async function maskPng(half: number, generate = 255, keep = 0): Promise<{ png: Uint8Array; kept: (x: number, y: number) => boolean }> {
  const kept = (x: number, y: number) => Math.abs(x - SIDE / 2 + 0.5) < half && Math.abs(y - SIDE / 2 + 0.5) < half;
  const gray = new Uint8Array(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) gray[y * SIDE + x] = kept(x, y) ? keep : generate;
  const png = await sharp(gray, { raw: { width: SIDE, height: SIDE, channels: 1 } })
    .png()
    .toBuffer();
  return { png: new Uint8Array(png), kept };
}

function inpaintSpec(overrides: Partial<NonNullable<GpuJobSpec["inpaint"]>> = {}, spec: Partial<GpuJobSpec> = {}): GpuJobSpec {
  return localJobSpec(
    { bytes: astronaut.byteLength, contentType: "image/png" },
    {
      width: SIDE,
      height: SIDE,
      steps: 2,
      seed: 7,
      keypoints: { type: "inpaint_image" },
      inpaint: { image: local, mask: local, mask_from: "mask", grow: 0, feather: 4, strength: 0.5, keep_unmasked: true, ...overrides },
      ...spec,
    },
  );
}

async function run(spec: GpuJobSpec, controlImages: ControlImageBytes, intermediates: string[] = []) {
  return pipeline.run({ spec, references: [astronaut], keypointImage: null, controlImages, intermediates });
}

const pixelsOf = async (bytes: Uint8Array) => (await decodeImage(bytes)).data;
type Result = Awaited<ReturnType<typeof run>>;
function firstOutput(result: Result): Uint8Array {
  const output = result.outputs[0];
  if (!output) throw new Error("the job returned no output");
  return output.bytes;
}
function intermediate(result: Result, kind: string): Uint8Array {
  const found = result.intermediates.find((i) => i.kind === kind);
  if (!found) throw new Error(`the job returned no ${kind} intermediate`);
  return found.bytes;
}
const at = (pixels: Uint8Array, i: number) => pixels[i] ?? -1;

describe("an inpaint job on the tiny bundle", () => {
  it("keeps every unmasked pixel of the product photo exactly (keep_unmasked) and returns the mask it generated into", async () => {
    const mask = await maskPng(16);
    const result = await run(inpaintSpec(), { ...NO_CONTROL_IMAGES, inpaintImage: product, inpaintMask: mask.png }, ["inpaint_mask"]);
    const out = await pixelsOf(firstOutput(result));
    let keptPixels = 0;
    let changedInMask = 0;
    for (let y = 0; y < SIDE; y++)
      for (let x = 0; x < SIDE; x++) {
        const i = 3 * (y * SIDE + x);
        const same = [0, 1, 2].every((c) => out[i + c] === productRgb[i + c]);
        if (mask.kept(x, y)) {
          expect(same, `kept pixel (${x}, ${y})`).toBe(true);
          keptPixels++;
        } else if (!same) changedInMask++;
      }
    expect(keptPixels).toBe(32 * 32);
    // The generated region is the model's (noise here), not the photo's.
    expect(changedInMask).toBeGreaterThan((SIDE * SIDE - keptPixels) / 2);
    const maskPixels = await pixelsOf(intermediate(result, "inpaint_mask"));
    for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) expect(maskPixels[3 * (y * SIDE + x)]).toBe(mask.kept(x, y) ? 0 : 255);
  });

  it("without keep_unmasked, returns the generated image as it is", async () => {
    const mask = await maskPng(16);
    const result = await run(inpaintSpec({ keep_unmasked: false }), { ...NO_CONTROL_IMAGES, inpaintImage: product, inpaintMask: mask.png });
    const out = await pixelsOf(firstOutput(result));
    let keptEqual = 0;
    for (let y = 0; y < SIDE; y++)
      for (let x = 0; x < SIDE; x++) {
        const i = 3 * (y * SIDE + x);
        if (mask.kept(x, y) && [0, 1, 2].every((c) => out[i + c] === productRgb[i + c])) keptEqual++;
      }
    expect(keptEqual).toBeLessThan(32 * 32);
  });

  it("takes the mask from the photo's alpha with mask_from alpha (transparent is generated)", async () => {
    const mask = await maskPng(16, 0, 255); // alpha: opaque product, transparent around it
    const alpha = (await decodeImage(mask.png)).data.filter((_, i) => i % 3 === 0);
    const rgba = new Uint8Array(SIDE * SIDE * 4);
    for (let p = 0; p < SIDE * SIDE; p++) {
      rgba.set(productRgb.subarray(3 * p, 3 * p + 3), 4 * p);
      rgba[4 * p + 3] = at(alpha, p);
    }
    const cutout = new Uint8Array(
      await sharp(rgba, { raw: { width: SIDE, height: SIDE, channels: 4 } })
        .png()
        .toBuffer(),
    );
    const result = await run(inpaintSpec({ mask: null, mask_from: "alpha" }), { ...NO_CONTROL_IMAGES, inpaintImage: cutout });
    const out = await pixelsOf(firstOutput(result));
    for (let y = 0; y < SIDE; y++)
      for (let x = 0; x < SIDE; x++) {
        const i = 3 * (y * SIDE + x);
        if (mask.kept(x, y)) expect([out[i], out[i + 1], out[i + 2]]).toEqual([productRgb[i], productRgb[i + 1], productRgb[i + 2]]);
      }
  });

  it("refuses a mask that generates nothing, one that keeps nothing, and alpha where the photo has none, by code", async () => {
    const empty = await maskPng(40); // the kept square covers the whole image
    await expect(run(inpaintSpec(), { ...NO_CONTROL_IMAGES, inpaintImage: product, inpaintMask: empty.png })).rejects.toMatchObject({
      code: "mask_empty",
    });
    const full = await maskPng(0);
    await expect(run(inpaintSpec(), { ...NO_CONTROL_IMAGES, inpaintImage: product, inpaintMask: full.png })).rejects.toMatchObject({
      code: "mask_full",
    });
    await expect(
      run(inpaintSpec({ mask: null, mask_from: "alpha" }), { ...NO_CONTROL_IMAGES, inpaintImage: product }),
    ).rejects.toMatchObject({
      code: "mask_missing_alpha",
    });
  });
});

describe("an inpaint job's keypoints", () => {
  // The keypoint image of a face found in the inpaint image is drawn at the output size (its keypoints are output
  // pixels); the reference's is drawn on the reference's own canvas (512x512 for astronaut.png) and then placed.
  const SCENE = 256;
  /** A white mask with a small kept square in its centre: neither empty nor full. */
  async function keepCentre(size: number): Promise<Uint8Array> {
    const gray = new Uint8Array(size * size).fill(255);
    for (let y = size / 2 - 4; y < size / 2 + 4; y++) for (let x = size / 2 - 4; x < size / 2 + 4; x++) gray[y * size + x] = 0;
    return new Uint8Array(
      await sharp(gray, { raw: { width: size, height: size, channels: 1 } })
        .png()
        .toBuffer(),
    );
  }
  const keypointCanvas = async (scene: Uint8Array, size: number) => {
    const spec = inpaintSpec({ feather: 0 }, { width: size, height: size, steps: 1 });
    const result = await run(spec, { ...NO_CONTROL_IMAGES, inpaintImage: scene, inpaintMask: await keepCentre(size) }, ["keypoint_image"]);
    const shown = result.intermediates.find((i) => i.kind === "keypoint_image");
    return [shown?.width, shown?.height];
  };

  it("come from a face in the inpaint image when it has one", async () => {
    const scene = new Uint8Array(await sharp(astronaut).resize(SCENE, SCENE).png().toBuffer());
    expect(await keypointCanvas(scene, SCENE)).toEqual([SCENE, SCENE]);
  });

  it("are the reference's, placed as for a plain job, when the inpaint image has no face", async () => {
    // At 256 pixels: the tiny bundle's fixture detector was fitted to find no face in coffee.png near its own size.
    const scene = new Uint8Array(await sharp(readFileSync("test/fixtures/images/coffee.png")).resize(SCENE, SCENE).png().toBuffer());
    expect(await keypointCanvas(scene, SCENE)).toEqual([512, 512]);
  });
});

describe("a softedge job on the tiny bundle", () => {
  const softedgeSpec = (softedge: GpuJobSpec["softedge"]): GpuJobSpec =>
    localJobSpec({ bytes: astronaut.byteLength, contentType: "image/png" }, { width: SIDE, height: SIDE, steps: 2, seed: 7, softedge });

  it("uses a given edge map as is (gray) and returns it as the edge_map intermediate", async () => {
    const edges = new Uint8Array(await sharp(product).greyscale().png().toBuffer());
    const result = await run(softedgeSpec({ edge_map: local, strength: 0.6 }), { ...NO_CONTROL_IMAGES, softedgeImage: edges }, [
      "edge_map",
    ]);
    expect(result.outputs).toHaveLength(1);
    const shown = await pixelsOf(intermediate(result, "edge_map"));
    const given = await pixelsOf(edges);
    expect(Buffer.from(shown).equals(Buffer.from(given))).toBe(true);
  });

  it("changes the image with its strength: the ControlNet's residuals reach the UNet", async () => {
    const edges = new Uint8Array(await sharp(product).greyscale().png().toBuffer());
    const withStrength = async (strength: number) =>
      pixelsOf(firstOutput(await run(softedgeSpec({ edge_map: local, strength }), { ...NO_CONTROL_IMAGES, softedgeImage: edges })));
    const [off, on] = [await withStrength(0), await withStrength(1)];
    expect(Buffer.from(off).equals(Buffer.from(on))).toBe(false);
  });
});

describe("a softedge job with a photo, the tiny bundle detecting its edges", () => {
  it.each(["pidinet", "hed"] as const)("runs the %s detector and returns the edge map it conditioned on", async (detector) => {
    const spec = localJobSpec(
      { bytes: astronaut.byteLength, contentType: "image/png" },
      { width: SIDE, height: SIDE, steps: 1, seed: 7, softedge: { image: local, detector, strength: 0.6 } },
    );
    const result = await run(spec, { ...NO_CONTROL_IMAGES, softedgeImage: product }, ["edge_map"]);
    expect(result.outputs).toHaveLength(1);
    const shown = result.intermediates.find((i) => i.kind === "edge_map");
    expect([shown?.width, shown?.height]).toEqual([SIDE, SIDE]); // the condition, at the output size
    const pixels = await pixelsOf(intermediate(result, "edge_map"));
    const gray = pixels.filter((_, i) => i % 3 === 0);
    for (let p = 0; p < SIDE * SIDE; p++) expect([pixels[3 * p + 1], pixels[3 * p + 2]]).toEqual([at(gray, p), at(gray, p)]);
    // The detector's map of the photo, not a constant (the tiny detectors are scaled for contrast).
    expect(new Set(gray).size).toBeGreaterThan(8);
  });
});

/**
 * The tiny bundle as one made before the detectors existed: its manifest without `edge_detectors` and the two
 * detector graphs, beside links to the tiny bundle's own graphs, tokenizer and constants (the files it lists).
 */
async function tinyBundleWithoutEdgeDetectors(dir: string): Promise<ModelBundle> {
  for (const sub of ["graphs", "tokenizer", "constants"]) symlinkSync(resolve(TINY_BUNDLE, sub), join(dir, sub));
  const manifest = JSON.parse(readFileSync(join(TINY_BUNDLE, "manifest.json"), "utf8")) as {
    edge_detectors?: Record<string, { graph: string }>;
    graphs: Record<string, { file: string }>;
    files: { path: string }[];
  };
  const detectorFiles = Object.values(manifest.edge_detectors ?? {}).map((d) => manifest.graphs[d.graph]?.file);
  for (const d of Object.values(manifest.edge_detectors ?? {})) delete manifest.graphs[d.graph];
  delete manifest.edge_detectors;
  manifest.files = manifest.files.filter((f) => !detectorFiles.includes(f.path));
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
  return openTinyBundle(dir);
}

describe("a job asking for what the bundle lacks", () => {
  let dir: string;
  let lacking: ModelBundle;
  let lackingPipeline: EcomidPipeline;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tiny-without-edge-detectors-"));
    lacking = await tinyBundleWithoutEdgeDetectors(dir);
    lackingPipeline = await EcomidPipeline.load(lacking);
  });
  afterAll(async () => {
    await lacking.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(["pidinet", "hed"] as const)(
    "fails a %s softedge job with capability_not_supported, saying to send an edge map",
    async (detector) => {
      expect(lacking.manifest.edge_detectors).toBeUndefined();
      const spec = localJobSpec(
        { bytes: astronaut.byteLength, contentType: "image/png" },
        { width: SIDE, height: SIDE, steps: 1, softedge: { image: local, detector, strength: 0.6 } },
      );
      const job = { spec, references: [astronaut], keypointImage: null, controlImages: { ...NO_CONTROL_IMAGES, softedgeImage: product } };
      await expect(lackingPipeline.run({ ...job, intermediates: [] })).rejects.toMatchObject({
        code: "capability_not_supported",
        message: expect.stringContaining(`no ${detector} edge detector; it offers none: send an edge_map instead`) as unknown,
      });
    },
  );
});
