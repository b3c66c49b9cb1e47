import { describe, expect, it } from "vitest";
import { parseSchedulerConfig, SchedulerConfigError, type ManifestSchedulerSection } from "./scheduler-config.js";
import { readManifestScheduler } from "./samplers.fixtures.js";

const manifestSection = readManifestScheduler();

describe("parseSchedulerConfig", () => {
  it("Should read the tiny bundle's scheduler section into camelCase", () => {
    expect(parseSchedulerConfig(manifestSection)).toEqual({
      numTrainTimesteps: 1000,
      betaStart: 0.00085,
      betaEnd: 0.012,
      betaSchedule: "scaled_linear",
      predictionType: "epsilon",
      timestepSpacing: "leading",
      stepsOffset: 1,
    });
  });

  it.each<[string, Partial<Record<keyof ManifestSchedulerSection, unknown>>]>([
    ["v-prediction", { prediction_type: "v_prediction" }],
    ["cosine betas", { beta_schedule: "squaredcos_cap_v2" }],
    ["an unknown spacing", { timestep_spacing: "sideways" }],
    ["inverted betas", { beta_start: 0.02, beta_end: 0.01 }],
    ["a fractional timestep count", { num_train_timesteps: 999.5 }],
    ["a missing offset", { steps_offset: undefined }],
  ])("Should refuse %s with a SchedulerConfigError", (_, change) => {
    expect(() => parseSchedulerConfig({ ...manifestSection, ...change } as ManifestSchedulerSection)).toThrow(SchedulerConfigError);
  });
});
