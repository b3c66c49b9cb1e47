import { trainingNoiseLevels, sigmaAtTimestep, spacedTimesteps } from "./noise-levels.js";
import type { NoiseScheduleConfig, SamplerDefinition, SamplerState, SamplingSchedule, StepResult } from "./types.js";

const f32 = Math.fround;

/**
 * The schedule shared by Euler and Euler ancestral (diffusers' EulerDiscreteScheduler without Karras sigmas): the
 * spaced training timesteps, their table sigmas, one model evaluation per step.
 */
export function eulerSchedule(sampler: "euler" | "euler_ancestral", steps: number, config: NoiseScheduleConfig): SamplingSchedule {
  const levels = trainingNoiseLevels(config);
  const timesteps = spacedTimesteps(config, steps);
  const sigmas = new Float64Array(steps + 1);
  timesteps.forEach((t, k) => (sigmas[k] = sigmaAtTimestep(levels, t)));
  const evaluationSigmas = sigmas.slice(0, steps);
  return {
    sampler,
    steps,
    sigmas,
    timesteps,
    evaluationSigmas,
    modelInputDivisors: evaluationSigmas.map(varianceExplodingDivisor),
    initNoiseSigma: initialNoiseSigma(config, sigmas[0]!),
  };
}

/** sqrt(sigma^2 + 1) in float32, as diffusers scales the input of a variance-exploding sampler. */
export function varianceExplodingDivisor(sigma: number): number {
  return f32(Math.sqrt(f32(f32(sigma * sigma) + 1)));
}

/**
 * diffusers' init_noise_sigma: sigma_max for linspace/trailing spacing, sqrt(sigma_max^2 + 1) for leading (its
 * reasoning: leading spacing never reaches the last training step, so the noise also carries the signal's unit variance).
 */
export function initialNoiseSigma(config: NoiseScheduleConfig, sigmaMax: number): number {
  return config.timestepSpacing === "leading" ? varianceExplodingDivisor(sigmaMax) : sigmaMax;
}

/**
 * One Euler step of the probability-flow ODE dx/dsigma = eps (epsilon prediction: denoised = x - sigma * eps,
 * derivative = (x - denoised) / sigma = eps), from sigma_i to sigma_{i+1}.
 */
export const euler: SamplerDefinition = {
  name: "euler",
  schedule: (steps, config) => eulerSchedule("euler", steps, config),
  step(state: SamplerState, modelOutput: Float32Array, sample: Float32Array): StepResult {
    const { sigmas } = state.schedule;
    const i = state.evaluationIndex;
    const dt = sigmas[i + 1]! - sigmas[i]!;
    const prevSample = new Float32Array(sample.length);
    for (let j = 0; j < sample.length; j++) prevSample[j] = sample[j]! + modelOutput[j]! * dt;
    return { prevSample, state: { schedule: state.schedule, evaluationIndex: i + 1, carry: null } };
  },
};
