/**
 * Test-only readers for the parity references: diffusers' schedule tables of the tiny bundle
 * (bundles/tiny/reference/schedulers.json) and the step goldens of gpu-function/test/goldens/schedulers
 * (written by make_goldens.py there).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ManifestSchedulerSection } from "./scheduler-config.js";
import type { SamplerName, SamplingSchedule } from "./types.js";

const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));
const goldensFolder = `${repositoryRoot}gpu-function/test/goldens/schedulers/`;

export interface DiffusersScheduleTable {
  /** diffusers' `scheduler.timesteps`: one per model evaluation. */
  readonly timesteps: number[];
  /** diffusers' `scheduler.sigmas`, in its own layout (see `diffusersSigmaLayout`). */
  readonly sigmas: number[];
  readonly init_noise_sigma: number;
}

export function readManifestScheduler(): ManifestSchedulerSection {
  const manifest = JSON.parse(readFileSync(`${repositoryRoot}bundles/tiny/manifest.json`, "utf8")) as {
    scheduler: ManifestSchedulerSection;
  };
  return manifest.scheduler;
}

export function readScheduleTables(): Record<SamplerName, Record<string, DiffusersScheduleTable>> {
  const file = JSON.parse(readFileSync(`${repositoryRoot}bundles/tiny/reference/schedulers.json`, "utf8")) as {
    tables: Record<SamplerName, Record<string, DiffusersScheduleTable>>;
  };
  return file.tables;
}

/**
 * Our step-boundary sigmas in diffusers' layout of `scheduler.sigmas`. KDPM2 (dpm_2) stores
 * [s0, s1, s1, s2, s2, ..., 0, 0, 0]: every boundary after the first twice (once per evaluation of the step that
 * ends there, indexed by its step counter), then the final 0 once more. The others store [s0 ... s_n, 0].
 */
export function diffusersSigmaLayout(schedule: SamplingSchedule): number[] {
  const boundaries = Array.from(schedule.sigmas);
  if (schedule.sampler !== "dpm_2_karras") return boundaries;
  return [boundaries[0]!, ...boundaries.slice(1).flatMap((sigma) => [sigma, sigma]), boundaries[boundaries.length - 1]!];
}

export interface GoldenCase {
  readonly sampler: SamplerName;
  readonly steps: number;
  readonly shape: number[];
  readonly evaluations: number;
  readonly hasNoise: boolean;
  readonly timesteps: number[];
  readonly initNoiseSigma: number;
  readonly file: string;
}

export interface GoldenEvaluation {
  readonly modelInput: Float32Array;
  readonly modelOutput: Float32Array;
  readonly noise: Float32Array | undefined;
  readonly prevSample: Float32Array;
}

export interface GoldenRun {
  readonly meta: GoldenCase;
  readonly initialNoise: Float32Array;
  readonly initialSample: Float32Array;
  readonly evaluations: GoldenEvaluation[];
}

interface GoldenIndex {
  readonly alphasCumprod: number[];
  readonly cases: GoldenCase[];
}

export function readGoldenIndex(): GoldenIndex {
  return JSON.parse(readFileSync(`${goldensFolder}goldens.json`, "utf8")) as GoldenIndex;
}

/** Splits a case's raw float32 file by the layout make_goldens.py writes. */
export function readGoldenRun(meta: GoldenCase): GoldenRun {
  const bytes = readFileSync(`${goldensFolder}${meta.file}`);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const size = meta.shape.reduce((a, b) => a * b, 1);
  const perEvaluation = meta.hasNoise ? 4 : 3;
  if (all.length !== size * (2 + perEvaluation * meta.evaluations))
    throw new RangeError(`${meta.file} has ${all.length} values, layout wants ${size * (2 + perEvaluation * meta.evaluations)}`);
  let offset = 0;
  const next = (): Float32Array => all.slice(offset, (offset += size));
  const initialNoise = next();
  const initialSample = next();
  const evaluations = Array.from({ length: meta.evaluations }, (): GoldenEvaluation => {
    const modelInput = next();
    const modelOutput = next();
    const noise = meta.hasNoise ? next() : undefined;
    return { modelInput, modelOutput, noise, prevSample: next() };
  });
  return { meta, initialNoise, initialSample, evaluations };
}

/** max |actual - expected| / max |expected|: a relative bound that stays meaningful for entries near zero. */
export function relativeMaxError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  let scale = 0;
  let error = 0;
  for (let j = 0; j < expected.length; j++) {
    scale = Math.max(scale, Math.abs(expected[j]!));
    const difference = Math.abs(actual[j]! - expected[j]!);
    error = Number.isNaN(difference) ? Number.POSITIVE_INFINITY : Math.max(error, difference);
  }
  return scale === 0 ? error : error / scale;
}

/** max over entries of |actual - expected| / max(1, |expected|): relative for large values, absolute below 1. */
export function entrywiseError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  let error = 0;
  for (let j = 0; j < expected.length; j++) {
    const difference = Math.abs(actual[j]! - expected[j]!) / Math.max(1, Math.abs(expected[j]!));
    error = Number.isNaN(difference) ? Number.POSITIVE_INFINITY : Math.max(error, difference);
  }
  return error;
}
