/**
 * Philox4x32-10, the counter-based generator of Salmon et al. 2011 ("Parallel random numbers: as easy as 1, 2, 3",
 * Random123): ten rounds of two 32x32->64-bit multiplications and a Weyl-sequence key schedule turn a 128-bit
 * counter and a 64-bit key into 128 random bits. Counter-based means block n is computed directly, so noise is a
 * pure function of (seed, stream, position) and needs no generator state to carry around.
 */
const MULTIPLIER_0 = 0xd2511f53;
const MULTIPLIER_1 = 0xcd9e8d57;
const WEYL_0 = 0x9e3779b9;
const WEYL_1 = 0xbb67ae85;

/** Writes the 4 output words of block (c0, c1, c2, c3) under key (k0, k1) into `out`. */
export function philox4x32(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array): void {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let x2 = c2 >>> 0;
  let x3 = c3 >>> 0;
  let key0 = k0 >>> 0;
  let key1 = k1 >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulHigh(MULTIPLIER_0, x0);
    const lo0 = Math.imul(MULTIPLIER_0, x0) >>> 0;
    const hi1 = mulHigh(MULTIPLIER_1, x2);
    const lo1 = Math.imul(MULTIPLIER_1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
    key0 = (key0 + WEYL_0) >>> 0;
    key1 = (key1 + WEYL_1) >>> 0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}

/**
 * The high 32 bits of the 64-bit product of two unsigned 32-bit integers. With b = bHigh * 2^16 + bLow both partial
 * products stay below 2^48, exact in float64, and floor((a bHigh 2^16 + a bLow) / 2^32) =
 * floor((a bHigh + floor(a bLow / 2^16)) / 2^16).
 */
function mulHigh(a: number, b: number): number {
  return Math.floor((a * (b >>> 16) + Math.floor((a * (b & 0xffff)) / 0x10000)) / 0x10000);
}
