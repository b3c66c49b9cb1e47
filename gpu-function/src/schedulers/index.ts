/** The samplers of the denoising loop: pure functions of arrays with explicit state. See samplers.ts for the loop. */
export { SAMPLER_NAMES } from "./types.js";
export type {
  NoiseScheduleConfig,
  NoiseSource,
  SamplerName,
  SamplerState,
  SamplingSchedule,
  StepResult,
  TimestepSpacing,
} from "./types.js";
export { parseSchedulerConfig, SchedulerConfigError, type ManifestSchedulerSection } from "./scheduler-config.js";
export {
  createSchedule,
  currentTimestep,
  isFinished,
  MAX_STEPS,
  scaleInitialNoise,
  scaleModelInput,
  startSampling,
  step,
} from "./samplers.js";
export { explicitNoise, gaussianNoise, initialNoise, seededNoiseSource } from "./gaussian-noise.js";
