import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ModelBundle } from "../src/runtime/bundle.js";
import type { GraphOptimizationLevel } from "../src/runtime/onnx.js";
import type { Point } from "../src/preprocess/similarity-transform.js";
import { relativeBound } from "./float-bounds.js";

/** Reads the PyTorch reference outputs committed beside the tiny bundle (raw little-endian + index.json). */
export const TINY_BUNDLE = "bundles/tiny";
const REF_DIR = join(TINY_BUNDLE, "reference");

interface Entry {
  dtype: "float32" | "uint8";
  file: string;
  shape: number[];
}

const index = JSON.parse(readFileSync(join(REF_DIR, "index.json"), "utf8")) as {
  tensors: Record<string, Entry>;
  parameters: Record<string, unknown>;
  detection_size: number;
  /** Per graph, its rounding count at the reference run's sizes (infra/export/ecomid_export/float_error.py). */
  arithmetic: Record<string, { roundings: number }>;
};

export const referenceParameters = index.parameters;
export const referenceDetectionSize = index.detection_size;

/**
 * float32's bound (float-bounds.ts) for graphs run one after another, each `runs[graph]` times, against the
 * PyTorch reference: the rounding counts add.
 */
export function referenceBound(runs: Record<string, number>, amplification = 1): number {
  let roundings = 0;
  for (const [graph, times] of Object.entries(runs)) {
    const counted = index.arithmetic[graph];
    if (!counted) throw new Error(`no rounding count for graph ${graph}`);
    roundings += times * counted.roundings;
  }
  return relativeBound(roundings, amplification);
}

/**
 * The tiny bundle on CPU as the parity tests run it. ECOMID_TEST_ORT_THREADS and ECOMID_TEST_ORT_OPTIMIZATION
 * (disabled | basic | extended | all) vary onnxruntime's kernels and fusions, which change its summation
 * orders as another CPU would (scripts/test-numeric-variants.sh); the default is one thread, all fusions. `dir`: a
 * variant of the tiny bundle a test made (its own manifest beside links to the tiny bundle's files).
 */
export function openTinyBundle(dir = TINY_BUNDLE): Promise<ModelBundle> {
  const threads = Number(process.env.ECOMID_TEST_ORT_THREADS ?? 1);
  const optimization = (process.env.ECOMID_TEST_ORT_OPTIMIZATION ?? "all") as GraphOptimizationLevel;
  return ModelBundle.open(dir, { provider: "cpu", intraOpThreads: threads, graphOptimizationLevel: optimization }, { skipHashes: true });
}

export function reference(name: string): { data: Float32Array | Uint8Array; shape: number[] } {
  const e = index.tensors[name];
  if (!e) throw new Error(`no reference tensor ${name}`);
  const bytes = readFileSync(join(REF_DIR, e.file));
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return { data: e.dtype === "float32" ? new Float32Array(buf) : new Uint8Array(buf), shape: e.shape };
}

export function referenceF32(name: string) {
  const r = reference(name);
  if (!(r.data instanceof Float32Array)) throw new Error(`${name} is not float32`);
  return r as { data: Float32Array; shape: number[] };
}

/** The reference's five SCRFD keypoints (float32, source pixels). */
export function referenceKeypoints(): Point[] {
  const k = referenceF32("face_keypoints").data;
  return [0, 1, 2, 3, 4].map((i) => [k[2 * i]!, k[2 * i + 1]!] as const);
}

export function referenceU8(name: string) {
  const r = reference(name);
  if (!(r.data instanceof Uint8Array)) throw new Error(`${name} is not uint8`);
  return r as { data: Uint8Array; shape: number[] };
}

/** Largest |a - b| relative to the largest |b|. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return maxAbsDiff(a, b) / (maxAbs(b) || 1);
}

/** max |actual - expected| / max(1, max |expected|): the measure float32's bounds (float-bounds.ts) are stated in. */
export function scaledError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  return maxAbsDiff(actual, expected) / Math.max(1, maxAbs(expected));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  return diff;
}

export function maxAbs(values: ArrayLike<number>): number {
  let largest = 0;
  for (let i = 0; i < values.length; i++) largest = Math.max(largest, Math.abs(values[i]!));
  return largest;
}
