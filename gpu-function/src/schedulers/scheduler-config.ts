import type { NoiseScheduleConfig, TimestepSpacing } from "./types.js";

/** Thrown when the bundle's scheduler section cannot be sampled by these samplers. */
export class SchedulerConfigError extends Error {
  readonly code = "bundle_invalid";
  constructor(message: string) {
    super(message);
    this.name = "SchedulerConfigError";
  }
}

/** The manifest's `scheduler` section as the bundle writes it (diffusers' snake_case config keys). */
export interface ManifestSchedulerSection {
  readonly num_train_timesteps: number;
  readonly beta_start: number;
  readonly beta_end: number;
  readonly beta_schedule: string;
  readonly prediction_type: string;
  readonly timestep_spacing: string;
  readonly steps_offset: number;
}

const SPACINGS: readonly TimestepSpacing[] = ["leading", "trailing", "linspace"];

/**
 * Checks the manifest's scheduler section and returns it camelCased. Refuses what the samplers do not implement
 * (v-prediction, cosine betas) instead of sampling wrongly.
 *
 * @example
 * const config = parseSchedulerConfig(manifest.scheduler);
 */
export function parseSchedulerConfig(section: ManifestSchedulerSection): NoiseScheduleConfig {
  const positiveInteger = (name: keyof ManifestSchedulerSection, value: unknown, min: number): number => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min)
      throw new SchedulerConfigError(`scheduler.${name} must be an integer >= ${min}, got ${String(value)}`);
    return value;
  };
  const { beta_start: betaStart, beta_end: betaEnd } = section;
  if (typeof betaStart !== "number" || typeof betaEnd !== "number" || !(betaStart > 0 && betaStart < betaEnd && betaEnd < 1)) {
    throw new SchedulerConfigError(
      `scheduler.beta_start and beta_end must satisfy 0 < start < end < 1, got ${String(betaStart)}, ${String(betaEnd)}`,
    );
  }
  if (section.beta_schedule !== "scaled_linear" && section.beta_schedule !== "linear")
    throw new SchedulerConfigError(`scheduler.beta_schedule ${String(section.beta_schedule)} is not supported (scaled_linear, linear)`);
  if (section.prediction_type !== "epsilon")
    throw new SchedulerConfigError(`scheduler.prediction_type ${String(section.prediction_type)} is not supported (epsilon)`);
  const spacing = SPACINGS.find((s) => s === section.timestep_spacing);
  if (!spacing)
    throw new SchedulerConfigError(
      `scheduler.timestep_spacing ${String(section.timestep_spacing)} is not supported (${SPACINGS.join(", ")})`,
    );
  return {
    numTrainTimesteps: positiveInteger("num_train_timesteps", section.num_train_timesteps, 2),
    betaStart,
    betaEnd,
    betaSchedule: section.beta_schedule,
    predictionType: "epsilon",
    timestepSpacing: spacing,
    stepsOffset: positiveInteger("steps_offset", section.steps_offset, 0),
  };
}
