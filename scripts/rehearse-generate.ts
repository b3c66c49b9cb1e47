/**
 * The rehearsal's last stage (python -m ecomid_export rehearse): the GPU function's pipeline loads a full-size
 * bundle on CPU, one graph's session at a time (GRAPHS_IN_MEMORY=one: the fp16 denoiser alone takes about
 * 17 GB there), and generates one 512x512 image in 2 euler steps from test/fixtures/images/astronaut.png.
 * Usage: npx tsx scripts/rehearse-generate.ts BUNDLE_DIR OUT_DIR [THREADS]
 * Writes OUT_DIR/rehearsal.png and OUT_DIR/generation.json (times, seconds per step, peak RSS).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EcomidPipeline } from "../gpu-function/src/pipelines/ecomid.js";
import { localJobSpec } from "../gpu-function/src/pipelines/local-job.js";
import { ModelBundle } from "../gpu-function/src/runtime/bundle.js";

const [bundleDir, outDir, threads = "2"] = process.argv.slice(2);
if (!bundleDir || !outDir) throw new Error("usage: npx tsx scripts/rehearse-generate.ts BUNDLE_DIR OUT_DIR [THREADS]");
mkdirSync(outDir, { recursive: true });
const astronaut = new Uint8Array(readFileSync("test/fixtures/images/astronaut.png"));
const seconds = (t0: number) => Math.round((performance.now() - t0) / 100) / 10;

const t0 = performance.now();
const bundle = await ModelBundle.open(bundleDir, { provider: "cpu", intraOpThreads: Number(threads), graphsInMemory: "one" });
const verifySeconds = seconds(t0);
const pipeline = await EcomidPipeline.load(bundle);
const loadSeconds = seconds(t0);
console.log(`bundle verified (sha256 of every file) in ${verifySeconds} s; pipeline ready in ${loadSeconds} s`);

const spec = localJobSpec(
  { bytes: astronaut.byteLength, contentType: "image/png" },
  { prompt: "a studio portrait, soft light", steps: 2, seed: 1 },
);
// Seconds per step: the first from the denoising total less the later steps (it also creates the denoiser's
// session), each later one from one latents to the next.
const stepEnds: number[] = [];
const run0 = performance.now();
const result = await pipeline.run(
  { spec, references: [astronaut], keypointImage: null, intermediates: [] },
  {
    onLatents: () => void stepEnds.push(performance.now()),
    onProgress: (stage) => console.log(`  ${stage} at ${seconds(run0)} s`),
  },
);
const later = stepEnds.slice(1).map((end, i) => (end - stepEnds[i]!) / 1000);
const first = (result.stagesMs.denoise ?? 0) / 1000 - later.reduce((a, b) => a + b, 0);
const steps = [first, ...later].map((s) => Math.round(s * 10) / 10);
const output = result.outputs[0]!;
writeFileSync(join(outDir, "rehearsal.png"), output.bytes);
const generation = {
  precision: Object.fromEntries(Object.entries(bundle.manifest.graphs).map(([name, g]) => [name, g.precision])),
  threads: Number(threads),
  verify_s: verifySeconds,
  load_s: loadSeconds,
  job_s: seconds(run0),
  stages_ms: result.stagesMs,
  step_s: steps,
  faces: result.faces.length,
  image: { width: output.width, height: output.height, distinct_values: new Set(output.rgb.data).size },
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
};
writeFileSync(join(outDir, "generation.json"), JSON.stringify(generation, null, 2));
console.log(JSON.stringify(generation, null, 2));
await bundle.release();
