/**
 * Shared types of the samplers. Every sampler is a pair of pure functions over plain arrays
 * (see `samplers.ts`): a schedule built once per job, and a step that maps
 * (state, model output, sample) to (next sample, next state). Nothing is hidden in closures or counters.
 */

/** The API's sampler names (request field `sampler`). */
export const SAMPLER_NAMES = ["euler", "euler_ancestral", "dpmpp_2m_karras", "dpm_2_karras", "dpm_solver_trailing"] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

/** The discrete training noise schedule of the model (manifest `scheduler`, camelCased and checked). */
export interface NoiseScheduleConfig {
  readonly numTrainTimesteps: number;
  readonly betaStart: number;
  readonly betaEnd: number;
  readonly betaSchedule: "scaled_linear" | "linear";
  readonly predictionType: "epsilon";
  readonly timestepSpacing: TimestepSpacing;
  readonly stepsOffset: number;
}

export type TimestepSpacing = "leading" | "trailing" | "linspace";

/**
 * Everything a denoising loop needs to know before the first model call. Values are float64 numbers that hold
 * exactly the float32 values diffusers computes, so they can be fed to a float32 graph without drift.
 */
export interface SamplingSchedule {
  readonly sampler: SamplerName;
  readonly steps: number;
  /** Noise levels at the step boundaries, descending, ending with 0: `steps + 1` entries. */
  readonly sigmas: Float64Array;
  /** The `timestep` input of the model, one per model evaluation (dpm_2 evaluates twice per step but the last). */
  readonly timesteps: Float64Array;
  /** The noise level each model evaluation sees (dpm_2's second evaluations sit at the log-midpoint). */
  readonly evaluationSigmas: Float64Array;
  /**
   * The model sees `sample / modelInputDivisors[i]`: sqrt(sigma^2 + 1) for the samplers that keep the sample in
   * the variance-exploding space (Euler, dpm_2), 1 for DPM-Solver, whose sample is already variance-preserving.
   */
  readonly modelInputDivisors: Float64Array;
  /** Initial latents = unit Gaussian noise * initNoiseSigma. */
  readonly initNoiseSigma: number;
}

/**
 * The explicit state between two model evaluations. `carry` is the one array a sampler needs from the previous
 * evaluation: dpm_2 keeps the sample at the start of its two-evaluation step, DPM++ 2M the previous denoised
 * estimate, Euler nothing. The pipeline treats it as opaque.
 */
export interface SamplerState {
  readonly schedule: SamplingSchedule;
  /** Index of the next model evaluation, 0 .. timesteps.length; equal to timesteps.length when sampling is done. */
  readonly evaluationIndex: number;
  readonly carry: Float32Array | null;
}

export interface StepResult {
  readonly prevSample: Float32Array;
  readonly state: SamplerState;
}

/**
 * Unit Gaussian noise for the ancestral samplers: a pure function of the evaluation index, so replaying a step
 * reproduces it. The pipeline always passes one; deterministic samplers never call it.
 */
export type NoiseSource = (evaluationIndex: number, length: number) => Float32Array;

/** One sampler: how it lays out its schedule and how one model evaluation advances the sample. */
export interface SamplerDefinition {
  readonly name: SamplerName;
  schedule(steps: number, config: NoiseScheduleConfig): SamplingSchedule;
  /** Advances by one model evaluation; must not mutate its arguments. */
  step(state: SamplerState, modelOutput: Float32Array, sample: Float32Array, noise: NoiseSource | undefined): StepResult;
}
