/**
 * `npm run bench:pipeline`: the TypeScript EcomID pipeline against the PyTorch
 * reference on the tiny bundle, on this CPU, in one run; then the host cost per
 * denoising step at real SDXL shapes around a trivial denoiser graph.
 *   BENCH_RUNS (default 5) timed runs after one warm-up, medians reported.
 *   BENCH_THREADS (default 1) intra-op threads for onnxruntime and torch alike, so the
 *     comparison is thread for thread (the reference itself runs on one thread).
 *   BENCH_HOST_STEPS (default 30) sampler steps per host-overhead loop.
 *   EXECUTION_PROVIDER (default cpu; cuda on a GPU machine), BENCH_SKIP_REFERENCE=1,
 *   BENCH_PYTHON (default infra/export/.venv/bin/python), BENCH_JSON=path to also write the numbers.
 */
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { timeHostOverhead, trivialGraph } from "../infra/bench/host-overhead.js";
import { timePipeline } from "../infra/bench/pipeline-timing.js";
import { findPython, timeReference, VENV_PYTHON, type ReferenceTiming } from "../infra/bench/reference-timing.js";
import { hostReport, pipelineReport } from "../infra/bench/report.js";
import { peakRssMb } from "../infra/bench/stats.js";
import type { ProviderChoice } from "../gpu-function/src/runtime/onnx.js";

const BUNDLE = "bundles/tiny";
const IMAGE = "test/fixtures/images/astronaut.png";
const SAMPLERS = ["euler", "dpm_2_karras"] as const;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const THREADS = Number(process.env.BENCH_THREADS ?? 1);
const HOST_STEPS = Number(process.env.BENCH_HOST_STEPS ?? 30);
const PROVIDER = (process.env.EXECUTION_PROVIDER ?? "cpu") as ProviderChoice;

function cpuModel(): string {
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("model name"));
    if (line) return line.split(":")[1]!.trim();
  } catch {
    // not Linux: os.cpus() below
  }
  return os.cpus()[0]?.model ?? "unknown";
}

async function main(): Promise<void> {
  const started = performance.now();
  const ortVersion = (JSON.parse(readFileSync("node_modules/onnxruntime-node/package.json", "utf8")) as { version: string }).version;
  const python = findPython();
  const skipReference = process.env.BENCH_SKIP_REFERENCE === "1";
  const out: string[] = [];
  const say = (line = "") => {
    out.push(line);
    console.log(line);
  };

  say(`bench:pipeline  ${new Date().toISOString()}`);
  say(
    `machine: ${cpuModel()}, ${os.availableParallelism()} cores visible, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
  );
  say(`node ${process.version}, onnxruntime-node ${ortVersion}, provider asked: ${PROVIDER}, intra-op threads: ${THREADS}`);

  // a. The TypeScript pipeline.
  const ts = await timePipeline({
    bundleDir: BUNDLE,
    imagePath: IMAGE,
    samplers: SAMPLERS,
    runs: RUNS,
    provider: PROVIDER,
    threads: THREADS,
  });
  const tsPipelineRss = peakRssMb();

  // b. The PyTorch reference, in its own process.
  let ref: ReferenceTiming | null = null;
  if (skipReference || !python) {
    say(
      `PyTorch reference: SKIPPED: ${skipReference ? "BENCH_SKIP_REFERENCE=1" : `no ${VENV_PYTHON}; create it with infra/export/setup_venv.sh (about 3 min, 6 GB)`}`,
    );
  } else {
    try {
      ref = await timeReference(python, { bundleDir: BUNDLE, imagePath: IMAGE, samplers: SAMPLERS, runs: RUNS, threads: THREADS });
      say(`python ${ref.python}, torch ${ref.torch} (CPU), torch threads: ${ref.threads}`);
    } catch (e) {
      say(`PyTorch reference: FAILED: ${(e as Error).message.split("\n").slice(-4).join(" | ")}`);
    }
  }

  // c. Side by side.
  say();
  say(`1. EcomID pipeline on the tiny bundle (64x64, 4 steps, the reference job), provider ${ts.provider}`);
  say(
    `   load: TS ${ts.loadMs.toFixed(0)} ms` + (ref ? `, PyTorch ${ref.loadMs.toFixed(0)} ms (builds the modules from their seeds)` : ""),
  );
  for (const line of pipelineReport(ts, ref)) say(line);

  // d. Host cost per step at real SDXL shapes.
  const graph = trivialGraph(python);
  let host: Awaited<ReturnType<typeof timeHostOverhead>> | null = null;
  try {
    const manifest = JSON.parse(readFileSync(`${BUNDLE}/manifest.json`, "utf8")) as {
      scheduler: Parameters<typeof timeHostOverhead>[0]["scheduler"];
    };
    host = await timeHostOverhead({
      graphPath: graph.path,
      graphSource: graph.source,
      scheduler: manifest.scheduler,
      samplers: SAMPLERS,
      steps: HOST_STEPS,
      provider: PROVIDER,
      threads: THREADS,
    });
    say();
    say(
      `2. Host time per model evaluation at SDXL shapes (latents [2,4,128,128], control [2,3,1024,1024], CFG batch 2), ${HOST_STEPS} steps, provider ${host.provider}`,
    );
    say(`   trivial denoiser (noise_pred = sample * 1, every fused-denoiser input declared): ${host.graphSource}`);
    say(
      "   loop = model-input scaling + Denoiser.predict (feeds, run, CFG combine) + sampler step; bare run = session.run on prebuilt tensors; host = loop - bare run",
    );
    for (const line of hostReport(host)) say(line);
  } finally {
    graph.cleanup();
  }

  // e. Memory.
  say();
  say(
    `3. Peak RSS: TS process ${tsPipelineRss.toFixed(0)} MiB after the pipeline runs, ${peakRssMb().toFixed(0)} MiB after the SDXL-shape loop; PyTorch process ${ref ? ref.peakRssMb.toFixed(0) + " MiB" : "-"}`,
  );
  say(`total bench time ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ ts, ref, host, output: out }, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
