import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Reads the PyTorch reference outputs committed beside the tiny bundle (raw little-endian + index.json). */
export const TINY_BUNDLE = "bundles/tiny";
const REF_DIR = join(TINY_BUNDLE, "reference");

interface Entry {
  dtype: "float32" | "uint8";
  file: string;
  shape: number[];
}

const index = JSON.parse(readFileSync(join(REF_DIR, "index.json"), "utf8")) as { tensors: Record<string, Entry>; parameters: Record<string, unknown> };

export const referenceParameters = index.parameters;

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

export function referenceU8(name: string) {
  const r = reference(name);
  if (!(r.data instanceof Uint8Array)) throw new Error(`${name} is not uint8`);
  return r as { data: Uint8Array; shape: number[] };
}

/** Largest |a - b| relative to the largest |b|, the measure the parity tests bound. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / (scale || 1);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
  return diff;
}
