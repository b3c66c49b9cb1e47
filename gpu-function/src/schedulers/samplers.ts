import { dpm2Karras } from "./dpm-2.js";
import { dpmSolverTrailing, dpmppTwoMKarras } from "./dpm-solver-multistep.js";
import { eulerAncestral } from "./euler-ancestral.js";
import { euler } from "./euler.js";
import type {
  NoiseScheduleConfig,
  NoiseSource,
  SamplerDefinition,
  SamplerName,
  SamplerState,
  SamplingSchedule,
  StepResult,
} from "./types.js";

export const SAMPLERS: Readonly<Record<SamplerName, SamplerDefinition>> = {
  euler,
  euler_ancestral: eulerAncestral,
  dpmpp_2m_karras: dpmppTwoMKarras,
  dpm_2_karras: dpm2Karras,
  dpm_solver_trailing: dpmSolverTrailing,
};

/** The most steps a schedule may have: far beyond any useful count, small enough to bound the work. */
export const MAX_STEPS = 1000;

/**
 * The sampler's noise levels and model timesteps for `steps` steps. Pure: the same arguments give equal arrays.
 *
 * @example
 * const schedule = createSchedule("dpm_2_karras", 25, parseSchedulerConfig(manifest.scheduler));
 * schedule.timesteps.length; // 49 model evaluations
 */
export function createSchedule(sampler: SamplerName, steps: number, config: NoiseScheduleConfig): SamplingSchedule {
  const definition = SAMPLERS[sampler];
  if (!definition) throw new RangeError(`unknown sampler ${String(sampler)}`);
  if (!Number.isInteger(steps) || steps < 1 || steps > Math.min(MAX_STEPS, config.numTrainTimesteps)) {
    throw new RangeError(`steps must be an integer from 1 to ${Math.min(MAX_STEPS, config.numTrainTimesteps)}, got ${steps}`);
  }
  return definition.schedule(steps, config);
}

/** The state before the first model evaluation. */
export function startSampling(schedule: SamplingSchedule): SamplerState {
  return { schedule, evaluationIndex: 0, carry: null };
}

/** Initial latents from unit Gaussian noise: noise * initNoiseSigma (a new array). */
export function scaleInitialNoise(noise: Float32Array, schedule: SamplingSchedule): Float32Array {
  const latents = new Float32Array(noise.length);
  for (let j = 0; j < noise.length; j++) latents[j] = noise[j]! * schedule.initNoiseSigma;
  return latents;
}

/** The model input for the state's next evaluation: sample / modelInputDivisors[i] (a new array). */
export function scaleModelInput(state: SamplerState, sample: Float32Array): Float32Array {
  const divisor = state.schedule.modelInputDivisors[requireEvaluation(state)]!;
  if (divisor === 1) return sample.slice();
  // Plain loops: TypedArray.prototype.map with a closure costs several milliseconds at SDXL's 65,536 latents.
  const input = new Float32Array(sample.length);
  for (let j = 0; j < sample.length; j++) input[j] = sample[j]! / divisor;
  return input;
}

/** The model's `timestep` input for the state's next evaluation. */
export function currentTimestep(state: SamplerState): number {
  return state.schedule.timesteps[requireEvaluation(state)]!;
}

/** Whether every model evaluation of the schedule has been stepped. */
export function isFinished(state: SamplerState): boolean {
  return state.evaluationIndex === state.schedule.timesteps.length;
}

/**
 * Advances the sample by one model evaluation: returns the next sample and the next state; touches neither input.
 * `modelOutput` is the (guided) epsilon prediction for `scaleModelInput(state, sample)` at `currentTimestep(state)`.
 * `noise` is always passed by the pipeline; only ancestral samplers draw from it.
 *
 * @example
 * let state = startSampling(schedule);
 * let latents = scaleInitialNoise(initialNoise, schedule);
 * while (!isFinished(state)) {
 *   const eps = denoise(scaleModelInput(state, latents), currentTimestep(state));
 *   ({ prevSample: latents, state } = step(state, eps, latents, noise));
 * }
 */
export function step(state: SamplerState, modelOutput: Float32Array, sample: Float32Array, noise?: NoiseSource): StepResult {
  requireEvaluation(state);
  if (modelOutput.length !== sample.length)
    throw new RangeError(`model output has ${modelOutput.length} values, the sample ${sample.length}`);
  if (state.carry && state.carry.length !== sample.length)
    throw new RangeError(`state carries ${state.carry.length} values, the sample has ${sample.length}`);
  return SAMPLERS[state.schedule.sampler].step(state, modelOutput, sample, noise);
}

function requireEvaluation(state: SamplerState): number {
  const i = state.evaluationIndex;
  if (!Number.isInteger(i) || i < 0 || i >= state.schedule.timesteps.length) {
    throw new RangeError(`evaluation ${i} is outside the schedule's ${state.schedule.timesteps.length} evaluations`);
  }
  return i;
}
