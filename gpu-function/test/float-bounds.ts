/**
 * How far onnxruntime here may drift from the PyTorch references made on another CPU: the bound every parity
 * test uses, so the tests hold on any x86-64 machine (AVX2 or AVX-512 kernels, any summation order).
 *
 * The model is infra/export/ecomid_export/float_error.py's, which also counts each tiny graph's roundings into
 * bundles/tiny/reference/index.json ("arithmetic"): each float32 rounding is at most u = 2^-24 relative; as
 * independent zero-mean errors (Higham & Mary, SIAM J. Sci. Comput. 41(5), 2019, Theorem 2.4) the n roundings on
 * an output's path stay within LAMBDA * sqrt(n) * u of the magnitudes involved, except with probability
 * 2 * exp(-LAMBDA^2 / 2) per value; two independent evaluations differ by sqrt(2) times that. Graphs run one
 * after another add their counts. Assumed: the computation does not amplify relative error, except where a
 * caller passes the factor it knows (classifier-free guidance).
 */
export const FLOAT32_UNIT_ROUNDOFF = 2 ** -24;
/** 2 * exp(-49 / 2) = 4.6e-11 per value. */
const LAMBDA = 7;

export function relativeBound(roundings: number, amplification = 1): number {
  return Math.SQRT2 * LAMBDA * Math.sqrt(roundings) * FLOAT32_UNIT_ROUNDOFF * amplification;
}

/** uncond + g * (cond - uncond) = (1 - g) * uncond + g * cond: the two rows' errors scale by |1 - g| + |g|. */
export function guidanceAmplification(guidance: number): number {
  return Math.abs(1 - guidance) + Math.abs(guidance);
}

/**
 * Two floats within `distance` of each other, mapped to levels and rounded, differ by at most
 * 1 + floor(distance in levels): a rounding boundary may fall between them.
 */
export function levelBound(distance: number, levelsPerUnit: number): number {
  return 1 + Math.floor(distance * levelsPerUnit);
}
