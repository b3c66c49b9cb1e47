import { describe, expect, it } from "vitest";
import { explicitNoise, gaussianNoise, initialNoise, seededNoiseSource } from "./gaussian-noise.js";
import { philox4x32 } from "./philox.js";

const hex = (words: Uint32Array): string => Array.from(words, (word) => word.toString(16).padStart(8, "0")).join(" ");

describe("philox4x32", () => {
  // Random123 tests/kat_vectors, the three "philox4x32 10" lines: counter[4] key[2] -> result[4].
  it.each([
    [[0, 0, 0, 0], [0, 0], "6627e8d5 e169c58d bc57ac4c 9b00dbd8"],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], "408f276d 41c83b0e a20bc7c6 6d5451fd"],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], "d16cfe09 94fdcceb 5001e420 24126ea1"],
  ] as const)("Should reproduce Random123's known answer for counter %j and key %j", (counter, key, expected) => {
    const out = new Uint32Array(4);
    philox4x32(counter[0], counter[1], counter[2], counter[3], key[0], key[1], out);
    expect(hex(out)).toBe(expected);
  });
});

describe("gaussianNoise", () => {
  it("Should give the same values for the same seed and stream, and a prefix for a shorter request", () => {
    const long = gaussianNoise(42, 3, 1001);
    expect(gaussianNoise(42, 3, 1001)).toEqual(long);
    expect(gaussianNoise(42, 3, 7)).toEqual(long.slice(0, 7));
  });

  it("Should give unrelated values for other seeds, other streams and seeds beyond 32 bits", () => {
    const base = gaussianNoise(42, 0, 64);
    for (const other of [gaussianNoise(43, 0, 64), gaussianNoise(42, 1, 64), gaussianNoise(42 + 2 ** 32, 0, 64)]) {
      expect(other).not.toEqual(base);
      expect(Math.abs(correlation(other, base))).toBeLessThan(0.5);
    }
  });

  it("Should have zero mean, unit variance and Gaussian tails", () => {
    const values = gaussianNoise(2026, 0, 200_000);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
    const beyondTwo = values.filter((value) => Math.abs(value) > 2).length / values.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.01);
    expect(Math.abs(beyondTwo - 0.0455)).toBeLessThan(0.003);
    expect(values.every(Number.isFinite)).toBe(true);
  });

  it("Should refuse seeds and streams it cannot represent", () => {
    for (const seed of [-1, 1.5, 2 ** 53, Number.NaN]) expect(() => gaussianNoise(seed, 0, 4)).toThrow(RangeError);
    for (const stream of [-1, 2 ** 32, 0.5]) expect(() => gaussianNoise(1, stream, 4)).toThrow(RangeError);
  });
});

describe("noise sources", () => {
  it("Should keep the initial noise and every evaluation's ancestral noise on separate streams", () => {
    const source = seededNoiseSource(9);
    expect(initialNoise(9, 16)).toEqual(gaussianNoise(9, 0, 16));
    expect(source(0, 16)).toEqual(gaussianNoise(9, 1, 16));
    expect(source(4, 16)).toEqual(source(4, 16));
    expect(source(4, 16)).not.toEqual(source(5, 16));
  });

  it("Should hand out explicit noise by evaluation and refuse missing or mis-sized entries", () => {
    const first = new Float32Array([1, 2]);
    const source = explicitNoise([first, undefined]);
    expect(source(0, 2)).toBe(first);
    expect(() => source(1, 2)).toThrow(RangeError);
    expect(() => source(2, 2)).toThrow(RangeError);
    expect(() => source(0, 3)).toThrow(RangeError);
  });
});

function correlation(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let j = 0; j < a.length; j++) {
    ab += a[j]! * b[j]!;
    aa += a[j]! * a[j]!;
    bb += b[j]! * b[j]!;
  }
  return ab / Math.sqrt(aa * bb);
}
