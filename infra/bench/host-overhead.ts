import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { Denoiser } from "../../gpu-function/src/models/denoiser.js";
import { latentPreview } from "../../gpu-function/src/pipelines/preview.js";
import type { ModelBundle } from "../../gpu-function/src/runtime/bundle.js";
import { Graph, type ProviderChoice } from "../../gpu-function/src/runtime/onnx.js";
import { float32 } from "../../gpu-function/src/runtime/tensor.js";
import {
  createSchedule,
  currentTimestep,
  initialNoise,
  isFinished,
  parseSchedulerConfig,
  scaleInitialNoise,
  scaleModelInput,
  seededNoiseSource,
  startSampling,
  step,
  type ManifestSchedulerSection,
  type SamplerName,
} from "../../gpu-function/src/schedulers/index.js";
import { median } from "./stats.js";

// Real SDXL shapes: 1024² output, 128² latents, CFG rows [cond, uncond], cross-attention 2048.
const SIDE = 1024;
const LATENT = SIDE / 8;
const WIDTH = 2048;
const COMMITTED_GRAPH = join(import.meta.dirname, "trivial-denoiser.onnx");

export interface HostStepTiming {
  sampler: string;
  evaluations: number;
  loopMs: number; // median per model evaluation: model input scaling + Denoiser.predict + sampler step
  previewMs: number; // median latent preview per evaluation (the service sends one with each progress callback)
  bareRunMs: number; // median bare session.run on prebuilt tensors: what the graph call itself costs
}

export interface HostOverhead {
  provider: string;
  graphSource: string;
  samplers: HostStepTiming[];
}

/** The trivial graph: generated with the venv's onnx helper when the venv is there, else the committed copy. */
export function trivialGraph(python: string | null): { path: string; source: string; cleanup(): void } {
  if (python) {
    const dir = mkdtempSync(join(tmpdir(), "ecomid-bench-"));
    const path = join(dir, "trivial-denoiser.onnx");
    execFileSync(python, [join(import.meta.dirname, "make_trivial_denoiser.py"), path], { stdio: "inherit" });
    return { path, source: "generated now by make_trivial_denoiser.py", cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (!existsSync(COMMITTED_GRAPH)) throw new Error(`no Python venv and no ${COMMITTED_GRAPH}`);
  return { path: COMMITTED_GRAPH, source: "committed infra/bench/trivial-denoiser.onnx (no venv here)", cleanup: () => {} };
}

/** Times the denoising loop of EcomidPipeline around the trivial graph, per sampler. */
export async function timeHostOverhead(opts: {
  graphPath: string;
  graphSource: string;
  scheduler: ManifestSchedulerSection;
  samplers: readonly SamplerName[];
  steps: number;
  provider: ProviderChoice;
  threads: number;
}): Promise<HostOverhead> {
  const graph = await Graph.load("denoiser", opts.graphPath, { provider: opts.provider, intraOpThreads: opts.threads });
  // Denoiser.prepare reads only these two things from a bundle.
  const bundle = {
    graph: async () => graph,
    manifest: { model: { id_padding_tokens: { fidelity: 8, style: 16, neutral: 0 } } },
  } as unknown as ModelBundle;
  const filled = (dims: number[]) => float32(new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.01), dims);
  const denoiser = await Denoiser.prepare(bundle, {
    encoderHiddenStates: filled([2, 77, WIDTH]),
    textEmbeds: filled([2, 1280]),
    timeIds: filled([2, 6]),
    idTokens: filled([2, 10, WIDTH]),
    faceTokens: filled([2, 16, WIDTH]),
    controlImage: filled([1, 3, SIDE, SIDE]),
    idWeight: 0.3,
    idMode: "fidelity",
    cnScale: 0.8,
    guidance: 3.5,
  });
  const config = parseSchedulerConfig(opts.scheduler);
  const dims = [1, 4, LATENT, LATENT];

  const loop = () => {
    const loopTimes: number[] = [];
    const previewTimes: number[] = [];
    return async (sampler: SamplerName) => {
      // The loop body of EcomidPipeline.denoise, timed per model evaluation.
      const schedule = createSchedule(sampler, opts.steps, config);
      const ancestral = seededNoiseSource(1);
      let state = startSampling(schedule);
      let latents = scaleInitialNoise(initialNoise(1, LATENT * LATENT * 4), schedule);
      while (!isFinished(state)) {
        const t0 = performance.now();
        const eps = await denoiser.predict(scaleModelInput(state, latents), dims, currentTimestep(state));
        const next = step(state, eps, latents, ancestral);
        latents = next.prevSample;
        state = next.state;
        const t1 = performance.now();
        latentPreview(latents, LATENT, LATENT);
        loopTimes.push(t1 - t0);
        previewTimes.push(performance.now() - t1);
      }
      return { loopTimes, previewTimes };
    };
  };

  const bare = await bareRun(opts.graphPath, graph.provider, opts.threads);
  const samplers: HostStepTiming[] = [];
  for (const sampler of opts.samplers) {
    await loop()(sampler); // warm-up
    const { loopTimes, previewTimes } = await loop()(sampler);
    samplers.push({
      sampler,
      evaluations: loopTimes.length,
      loopMs: median(loopTimes),
      previewMs: median(previewTimes),
      bareRunMs: await bare(loopTimes.length),
    });
  }
  await graph.release();
  return { provider: graph.provider, graphSource: opts.graphSource, samplers };
}

/** session.run straight on onnxruntime-node with tensors built once: the floor under any loop. */
async function bareRun(path: string, provider: string, threads: number): Promise<(count: number) => Promise<number>> {
  const session = await ort.InferenceSession.create(path, {
    executionProviders: [provider],
    graphOptimizationLevel: "all",
    ...(threads ? { intraOpNumThreads: threads } : {}),
  });
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    const meta = session.inputMetadata.find((m) => m.name === name);
    const shape = meta && meta.isTensor ? (meta.shape as number[]) : [2];
    const size = shape.reduce((a, b) => a * b, 1);
    feeds[name] =
      name === "id_mode"
        ? new ort.Tensor("int64", new BigInt64Array(size).fill(2n), shape)
        : new ort.Tensor("float32", new Float32Array(size).fill(0.01), shape);
  }
  return async (count) => {
    await session.run(feeds); // warm-up
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t0);
    }
    return median(times);
  };
}
