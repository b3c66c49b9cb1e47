import { varianceExplodingDivisor, initialNoiseSigma } from "./euler.js";
import { karrasSigmas } from "./karras-sigmas.js";
import { roundHalfEven, sigmaAtTimestep, sigmaToTimestep, spacedTimesteps, trainingNoiseLevels } from "./noise-levels.js";
import type { NoiseScheduleConfig, SamplerDefinition, SamplerState, SamplingSchedule, StepResult } from "./types.js";

const f32 = Math.fround;

/**
 * dpm_2 with Karras sigmas (k-diffusion `sample_dpm_2`, diffusers' KDPM2DiscreteScheduler with use_karras_sigmas,
 * the EcomID workflow's sampler). Each step from sigma_k to sigma_{k+1} takes an Euler half-step to the log-midpoint
 * sigma_mid = exp(mean(log sigma_k, log sigma_{k+1})), evaluates the model there, and uses that derivative for the
 * full step; the last step, to sigma 0, has no midpoint and is plain Euler. So `steps` steps = 2 * steps - 1
 * evaluations, laid out as [s0, mid0, s1, mid1, ..., s_{n-1}].
 *
 * As in diffusers, the Karras range is the table sigmas at the first and last spaced timestep (with leading
 * spacing that is below the model's sigma_max), step timesteps are rounded and midpoint timesteps are fractional.
 */
export function dpm2KarrasSchedule(steps: number, config: NoiseScheduleConfig): SamplingSchedule {
  const levels = trainingNoiseLevels(config);
  const spaced = spacedTimesteps(config, steps);
  const karras = karrasSigmas(sigmaAtTimestep(levels, spaced[steps - 1]!), sigmaAtTimestep(levels, spaced[0]!), steps);
  const sigmas = new Float64Array(steps + 1);
  karras.forEach((sigma, k) => (sigmas[k] = f32(sigma)));
  const evaluationCount = 2 * steps - 1;
  const timesteps = new Float64Array(evaluationCount);
  const evaluationSigmas = new Float64Array(evaluationCount);
  for (let k = 0; k < steps; k++) {
    timesteps[2 * k] = roundHalfEven(sigmaToTimestep(karras[k]!, levels, "float64"));
    evaluationSigmas[2 * k] = sigmas[k]!;
    if (k === steps - 1) break;
    const midpoint = logMidpoint(sigmas[k]!, sigmas[k + 1]!);
    timesteps[2 * k + 1] = sigmaToTimestep(midpoint, levels, "float32");
    evaluationSigmas[2 * k + 1] = midpoint;
  }
  return {
    sampler: "dpm_2_karras",
    steps,
    sigmas,
    timesteps,
    evaluationSigmas,
    modelInputDivisors: evaluationSigmas.map(varianceExplodingDivisor),
    initNoiseSigma: initialNoiseSigma(config, sigmas[0]!),
  };
}

/** exp(mean(log a, log b)) in float32, the order torch.lerp(log b, log a, 0.5) evaluates it in. */
function logMidpoint(upper: number, lower: number): number {
  const logUpper = f32(Math.log(upper));
  const logLower = f32(Math.log(lower));
  return f32(Math.exp(f32(logUpper - f32(f32(logUpper - logLower) * 0.5))));
}

export const dpm2Karras: SamplerDefinition = {
  name: "dpm_2_karras",
  schedule: dpm2KarrasSchedule,
  step(state: SamplerState, modelOutput: Float32Array, sample: Float32Array): StepResult {
    const { sigmas, evaluationSigmas, steps } = state.schedule;
    const i = state.evaluationIndex;
    const k = Math.floor(i / 2);
    const isMidpoint = i % 2 === 1;
    const prevSample = new Float32Array(sample.length);
    const advance = (carry: Float32Array | null): StepResult => ({
      prevSample,
      state: { schedule: state.schedule, evaluationIndex: i + 1, carry },
    });
    if (isMidpoint) {
      // Second evaluation: the full step from the sample the step started at, with the midpoint's derivative.
      const start = state.carry;
      if (!start) throw new RangeError(`dpm_2 evaluation ${i} is a midpoint but the state carries no step start`);
      const dt = sigmas[k + 1]! - sigmas[k]!;
      for (let j = 0; j < sample.length; j++) prevSample[j] = start[j]! + modelOutput[j]! * dt;
      return advance(null);
    }
    // First evaluation: half-step to the midpoint, or, on the last step, Euler all the way to sigma 0.
    const target = k === steps - 1 ? sigmas[steps]! : evaluationSigmas[i + 1]!;
    const dt = target - sigmas[k]!;
    for (let j = 0; j < sample.length; j++) prevSample[j] = sample[j]! + modelOutput[j]! * dt;
    return advance(k === steps - 1 ? null : sample.slice());
  },
};
