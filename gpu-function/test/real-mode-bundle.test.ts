import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EcomidPipeline } from "../src/pipelines/ecomid.js";
import { localJobSpec } from "../src/pipelines/local-job.js";
import { ModelBundle } from "../src/runtime/bundle.js";
import { runExporter } from "./support/export-venv.js";

/**
 * The operator's path, at tiny widths: every real-mode input written in its publisher's layout
 * (python -m ecomid_export.published), the real-mode CLI on those files, and this pipeline on the bundle it built.
 */
const astronaut = new Uint8Array(readFileSync("test/fixtures/images/astronaut.png"));
const work = mkdtempSync(join(tmpdir(), "ecomid-real-mode-"));
const bundleDir = join(work, "bundle");
let bundle: ModelBundle;
let pipeline: EcomidPipeline;

beforeAll(() => {
  const inputs = runExporter(["ecomid_export.published", "--out", resolve(work, "published")], 60_000)
    .trim()
    .split(" ");
  runExporter(
    ["ecomid_export", "--out", resolve(bundleDir), "--widths", "tiny", "--bundle-id", "ecomid-real-mode-test", ...inputs],
    170_000,
  );
}, 240_000);

afterAll(async () => {
  await bundle?.release();
  rmSync(work, { recursive: true, force: true });
});

const spec = localJobSpec({ bytes: astronaut.byteLength, contentType: "image/png" }, { prompt: "a studio portrait", steps: 2, seed: 7 });

describe("a bundle built in real mode from published-layout files", () => {
  it("loads after its files are verified against the manifest, with fp16 graphs and the antelopev2 names", async () => {
    bundle = await ModelBundle.open(bundleDir, { provider: "cpu", intraOpThreads: 1 });
    expect(bundle.manifest.fixture).toBe(false);
    expect(bundle.manifest.graphs.denoiser.precision).toBe("mixed");
    expect(bundle.manifest.graphs.scrfd.inputs[0]!.name).toBe("input.1");
    pipeline = await EcomidPipeline.load(bundle);
  });

  it("generates a 512x512 image in 2 steps from the astronaut's face", async () => {
    const result = await pipeline.run({ spec, references: [astronaut], keypointImage: null, intermediates: [] });
    expect(result.faces).toHaveLength(1); // the SCRFD fixture, read through the published output names
    const output = result.outputs[0]!;
    expect([output.width, output.height]).toEqual([512, 512]);
    const { info } = await sharp(output.bytes).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([512, 512, 3]);
    // Random weights give noise; NaN anywhere in the fp16 graphs would give one flat colour instead.
    const pixels = output.rgb.data;
    expect(new Set(pixels).size).toBeGreaterThan(16);
  });
});
