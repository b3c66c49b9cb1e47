import { philox4x32 } from "./philox.js";
import type { NoiseSource } from "./types.js";

const TWO_POW_32 = 0x1_0000_0000;
/** Stream of the initial latents; ancestral noise for evaluation i uses stream i + 1. */
const INITIAL_STREAM = 0;

/**
 * `length` unit Gaussian values, a pure function of (seed, stream). Algorithm: Philox4x32-10 with key
 * (seed mod 2^32, floor(seed / 2^32)) and counter (block, stream, 0, 0) gives four uniform 32-bit words per block;
 * each pair (a, b) becomes two normals by Box-Muller: u = (a + 0.5) / 2^32 in (0, 1), r = sqrt(-2 ln u),
 * theta = 2 pi b / 2^32, values r cos theta, r sin theta. Value j comes from block floor(j / 4), word j mod 4, so a
 * longer request extends a shorter one. Reproducible across machines up to the last bit of Math.log/cos/sin
 * (V8 uses its own fdlibm port, not the platform libm). Not torch's generator: parity tests pass explicit noise.
 *
 * @example
 * const latents = gaussianNoise(42, 0, 4 * 128 * 128);
 */
export function gaussianNoise(seed: number, stream: number, length: number): Float32Array {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`noise seed must be an integer from 0 to 2^53 - 1, got ${seed}`);
  if (!Number.isInteger(stream) || stream < 0 || stream >= TWO_POW_32)
    throw new RangeError(`noise stream must be a 32-bit unsigned integer, got ${stream}`);
  const keyLow = seed % TWO_POW_32;
  const keyHigh = Math.floor(seed / TWO_POW_32);
  const words = new Uint32Array(4);
  const values = new Float32Array(length);
  for (let block = 0; block * 4 < length; block++) {
    philox4x32(block, stream, 0, 0, keyLow, keyHigh, words);
    for (let pair = 0; pair < 2; pair++) {
      const radius = Math.sqrt(-2 * Math.log((words[2 * pair]! + 0.5) / TWO_POW_32));
      const angle = (2 * Math.PI * words[2 * pair + 1]!) / TWO_POW_32;
      const j = block * 4 + pair * 2;
      if (j < length) values[j] = radius * Math.cos(angle);
      if (j + 1 < length) values[j + 1] = radius * Math.sin(angle);
    }
  }
  return values;
}

/** The initial latent noise of a job with this seed (unit variance; scale it with `scaleInitialNoise`). */
export function initialNoise(seed: number, length: number): Float32Array {
  return gaussianNoise(seed, INITIAL_STREAM, length);
}

/** Ancestral noise for a job with this seed: evaluation i draws stream i + 1, independent of the initial noise. */
export function seededNoiseSource(seed: number): NoiseSource {
  return (evaluationIndex, length) => gaussianNoise(seed, evaluationIndex + 1, length);
}

/** Noise given up front, one array per model evaluation (parity tests replay the reference's draws). */
export function explicitNoise(perEvaluation: readonly (Float32Array | undefined)[]): NoiseSource {
  return (evaluationIndex, length) => {
    const noise = perEvaluation[evaluationIndex];
    if (!noise) throw new RangeError(`no explicit noise for evaluation ${evaluationIndex}`);
    if (noise.length !== length)
      throw new RangeError(`explicit noise for evaluation ${evaluationIndex} has ${noise.length} values, ${length} wanted`);
    return noise;
  };
}
