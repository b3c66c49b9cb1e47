import type { NoiseScheduleConfig } from "./types.js";

/**
 * The model's training noise levels, computed the way diffusers computes them so that schedules agree to the last
 * float32 bit where possible: diffusers builds betas with torch.linspace in float32 (whose CPU kernel evaluates
 * start + step * i with a fused multiply-add, from both ends towards the middle), squares them in float32 and
 * takes the cumulative product with a float64 accumulator rounded to float32 at every entry (torch's CPU cumprod).
 * Every value below is a float32 value held in a float64.
 */
export interface TrainingNoiseLevels {
  /** alpha-bar per training timestep 0 .. numTrainTimesteps-1. */
  readonly alphasCumprod: Float64Array;
  /** sigma_t = sqrt((1 - alphaBar) / alphaBar), increasing with t. */
  readonly sigmas: Float64Array;
  /** float32 log of `sigmas`, the lookup table for sigma -> timestep. */
  readonly logSigmas: Float64Array;
}

const f32 = Math.fround;

/** torch.linspace(start, end, count, dtype=float32) as its CPU kernel evaluates it. */
export function float32Linspace(start: number, end: number, count: number): Float64Array {
  const from = f32(start);
  const to = f32(end);
  const step = f32((to - from) / (count - 1));
  const halfway = Math.floor(count / 2);
  const values = new Float64Array(count);
  // step * i is exact in float64 (24-bit times 32-bit mantissas), so one rounding emulates the fused multiply-add.
  for (let i = 0; i < count; i++) values[i] = i < halfway ? f32(from + step * i) : f32(to - step * (count - i - 1));
  return values;
}

export function trainingNoiseLevels(config: NoiseScheduleConfig): TrainingNoiseLevels {
  const count = config.numTrainTimesteps;
  const betas =
    config.betaSchedule === "scaled_linear"
      ? float32Linspace(Math.sqrt(config.betaStart), Math.sqrt(config.betaEnd), count).map((root) => f32(root * root))
      : float32Linspace(config.betaStart, config.betaEnd, count);
  const alphasCumprod = new Float64Array(count);
  const sigmas = new Float64Array(count);
  const logSigmas = new Float64Array(count);
  let product = 1;
  for (let t = 0; t < count; t++) {
    product *= f32(1 - betas[t]!);
    const alphaBar = f32(product);
    alphasCumprod[t] = alphaBar;
    sigmas[t] = f32(Math.sqrt(f32(f32(1 - alphaBar) / alphaBar)));
    logSigmas[t] = f32(Math.log(sigmas[t]!));
  }
  return { alphasCumprod, sigmas, logSigmas };
}

/**
 * The fractional training timestep whose sigma is `sigma`: linear interpolation in log-sigma between the two
 * neighbouring table entries, clamped to the table (diffusers' `_sigma_to_t`). `float32` evaluates the
 * interpolation in float32, as diffusers does for dpm_2's midpoints (torch tensors there, numpy float64 elsewhere).
 */
export function sigmaToTimestep(sigma: number, levels: TrainingNoiseLevels, precision: "float64" | "float32"): number {
  const table = levels.logSigmas;
  const round = precision === "float32" ? f32 : (x: number) => x;
  const logSigma = round(Math.log(Math.max(sigma, 1e-10)));
  // Index of the last table entry <= logSigma (0 when below the table), kept so that low + 1 stays in range.
  let low = 0;
  while (low + 1 < table.length && table[low + 1]! <= logSigma) low++;
  low = Math.min(low, table.length - 2);
  const lowLog = table[low]!;
  const highLog = table[low + 1]!;
  const weight = Math.min(1, Math.max(0, round(round(lowLog - logSigma) / f32(lowLog - highLog))));
  return round(round(round(1 - weight) * low) + round(weight * (low + 1)));
}

/**
 * Training timesteps picked for `steps` inference steps, descending (diffusers' `timestep_spacing`):
 * leading = multiples of floor(T / steps) plus steps_offset; trailing = round(T - k * T / steps) - 1;
 * linspace = evenly from T - 1 to 0.
 * Always exactly `steps` entries. diffusers builds trailing timesteps with np.arange(T, 0, -T / steps), which for
 * 62 step counts up to 1000 (61, 103, 121, ...) yields one extra entry, timestep -1; that is a float artefact, not
 * a schedule, and is not reproduced here. Every step count the conformance suite checks is unaffected.
 */
export function spacedTimesteps(config: NoiseScheduleConfig, steps: number): Float64Array {
  const total = config.numTrainTimesteps;
  const timesteps = new Float64Array(steps);
  if (config.timestepSpacing === "leading") {
    const ratio = Math.floor(total / steps);
    for (let k = 0; k < steps; k++) timesteps[k] = (steps - 1 - k) * ratio + config.stepsOffset;
  } else if (config.timestepSpacing === "trailing") {
    const ratio = total / steps;
    for (let k = 0; k < steps; k++) timesteps[k] = roundHalfEven(total - k * ratio) - 1;
  } else {
    for (let k = 0; k < steps; k++) timesteps[k] = f32(((total - 1) * (steps - 1 - k)) / Math.max(1, steps - 1));
  }
  return timesteps;
}

/** numpy's round: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The table sigma at an integer training timestep (what np.interp returns there). */
export function sigmaAtTimestep(levels: TrainingNoiseLevels, timestep: number): number {
  const value = levels.sigmas[timestep];
  if (value === undefined || !Number.isInteger(timestep)) throw new RangeError(`timestep ${timestep} is not a training timestep`);
  return value;
}
