import { readFileSync } from "node:fs";
import { join } from "node:path";
import { referenceJobSpec, type ReferenceParameters } from "../../gpu-function/test/reference-job.js";
import type { SamplerName } from "../../gpu-function/src/schedulers/index.js";
import { EcomidPipeline } from "../../gpu-function/src/pipelines/ecomid.js";
import { ModelBundle } from "../../gpu-function/src/runtime/bundle.js";
import type { ProviderChoice } from "../../gpu-function/src/runtime/onnx.js";
import { median, medianStages } from "./stats.js";

export interface SamplerTiming {
  sampler: string;
  runs: number;
  stagesMs: Record<string, number>; // medians of the pipeline's own stagesMs (whole ms per run)
  totalMs: number; // median end to end of pipeline.run
  imageMaxDiff: number | null; // vs the PyTorch reference image: shows the run computed the right thing
}

export interface PipelineTiming {
  provider: string;
  loadMs: number;
  samplers: SamplerTiming[];
}

/** The TS pipeline on a bundle: load once, then per sampler one warm-up run and `runs` timed runs. */
export async function timePipeline(opts: {
  bundleDir: string;
  imagePath: string;
  samplers: readonly SamplerName[];
  runs: number;
  provider: ProviderChoice;
  threads: number;
}): Promise<PipelineTiming> {
  const refDir = join(opts.bundleDir, "reference");
  const index = JSON.parse(readFileSync(join(refDir, "index.json"), "utf8")) as {
    parameters: ReferenceParameters;
    tensors: Record<string, { file: string }>;
  };
  const p = index.parameters;
  const image = new Uint8Array(readFileSync(opts.imagePath));
  // The reference's own initial noise, so both pipelines denoise the same latents.
  const noiseEntry = index.tensors.initial_noise;
  const initialNoise = noiseEntry ? toFloat32(readFileSync(join(refDir, noiseEntry.file))) : undefined;

  const t0 = performance.now();
  const bundle = await ModelBundle.open(opts.bundleDir, { provider: opts.provider, intraOpThreads: opts.threads }, { skipHashes: true });
  const pipeline = await EcomidPipeline.load(bundle);
  const loadMs = performance.now() - t0;
  const provider = (await bundle.graph("denoiser")).provider;

  const samplers: SamplerTiming[] = [];
  try {
    for (const sampler of opts.samplers) {
      const job = {
        spec: referenceJobSpec(p, sampler, image.byteLength),
        references: [image],
        keypointImage: null,
        intermediates: [],
        initialNoise,
      };
      await pipeline.run(job); // warm-up: first-run allocations and kernel choices stay out of the numbers
      const stageRuns: Record<string, number>[] = [];
      const totals: number[] = [];
      let last: Awaited<ReturnType<EcomidPipeline["run"]>> | null = null;
      for (let i = 0; i < opts.runs; i++) {
        const start = performance.now();
        last = await pipeline.run(job);
        totals.push(performance.now() - start);
        stageRuns.push(last.stagesMs);
      }
      const refImage = index.tensors[`${sampler}_image`];
      const imageMaxDiff = last && refImage ? maxDiff(last.outputs[0]!.rgb.data, readFileSync(join(refDir, refImage.file))) : null;
      samplers.push({ sampler, runs: opts.runs, stagesMs: medianStages(stageRuns), totalMs: median(totals), imageMaxDiff });
    }
  } finally {
    await bundle.release();
  }
  return { provider, loadMs, samplers };
}

function toFloat32(bytes: Buffer): Float32Array {
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - (b[i] ?? 0)));
  return m;
}
