import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { median, medianStages } from "./stats.js";

const run = promisify(execFile);
export const VENV_PYTHON = "infra/export/.venv/bin/python";

export interface ReferenceTiming {
  python: string;
  torch: string;
  threads: number;
  loadMs: number;
  peakRssMb: number;
  samplers: Array<{ sampler: string; runs: number; stagesMs: Record<string, number>; totalMs: number; imageMaxDiff: number | null }>;
}

interface RawReference {
  python: string;
  torch: string;
  threads: number;
  load_ms: number;
  peak_rss_mb: number;
  samplers: Record<string, { runs: Array<{ stages: Record<string, number>; total: number }>; image_max_diff_vs_reference: number | null }>;
}

/** The venv's python, or null when the venv has not been created (BENCH_PYTHON overrides). */
export function findPython(): string | null {
  const python = process.env.BENCH_PYTHON ?? VENV_PYTHON;
  return existsSync(python) ? python : null;
}

/** Runs reference_pipeline_timing.py in its own process (its RSS is its own) and takes the medians. */
export async function timeReference(
  python: string,
  opts: { bundleDir: string; imagePath: string; samplers: readonly string[]; runs: number; threads: number },
): Promise<ReferenceTiming> {
  const script = join(import.meta.dirname, "reference_pipeline_timing.py");
  const args = [
    script,
    "--bundle",
    opts.bundleDir,
    "--image",
    opts.imagePath,
    "--samplers",
    opts.samplers.join(","),
    "--runs",
    String(opts.runs),
    "--threads",
    String(opts.threads),
  ];
  const { stdout } = await run(python, args, { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, PYTHONWARNINGS: "ignore" } });
  const raw = JSON.parse(stdout.trim().split("\n").at(-1)!) as RawReference;
  return {
    python: raw.python,
    torch: raw.torch,
    threads: raw.threads,
    loadMs: raw.load_ms,
    peakRssMb: raw.peak_rss_mb,
    samplers: Object.entries(raw.samplers).map(([sampler, s]) => ({
      sampler,
      runs: s.runs.length,
      stagesMs: medianStages(s.runs.map((r) => r.stages)),
      totalMs: median(s.runs.map((r) => r.total)),
      imageMaxDiff: s.image_max_diff_vs_reference,
    })),
  };
}
