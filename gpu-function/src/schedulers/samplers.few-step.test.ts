/**
 * The samplers under the few-step bases' trailing config (SDXL-Lightning: Euler, SDXL Turbo: Euler ancestral; the
 * sources are cited in infra/export/ecomid_export/real/few_step_presets.py) against diffusers' own schedules and
 * scheduler.step outputs at 1, 2, 4 and 8 steps (gpu-function/test/goldens/schedulers/few-step.json, written by
 * make_few_step.py there).
 *
 * Why 1e-6 holds:
 * - schedules: timesteps are integers here (round(1000 - k * 1000 / steps) - 1) and each sigma is one float32
 *   table entry computed as diffusers computes it (noise-levels.ts), so they agree to float32 rounding of
 *   torch's and numpy's sqrt/log, far inside 1e-6 relative.
 * - steps: each golden step starts from diffusers' own sample, so one step's error is measured. diffusers rounds
 *   to float32 about 8 times on the way from (x, eps) to prev_sample (sigma * eps, x - that, x minus the result,
 *   the division by sigma, dt, the product, the sum; ancestral adds sigma_up, sigma_down and noise * sigma_up);
 *   ours rounds once, at the store. Each rounding is at most u = 2^-24 of the magnitudes it combines, which are
 *   bounded by m = max_j(|x_j| + sigma_i |eps_j| + sigma_up |noise_j|), so |ours - diffusers| <= 12 u m
 *   = 7.2e-7 m < 1e-6 m, in the worst case, not only on average. scale_model_input divides by
 *   sqrt(sigma^2 + 1): three roundings, 3 u |x| < 1e-6 |x|.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  createSchedule,
  currentTimestep,
  explicitNoise,
  parseSchedulerConfig,
  scaleModelInput,
  startSampling,
  step,
  type ManifestSchedulerSection,
  type SamplerName,
  type SamplerState,
} from "./index.js";
import { entrywiseError } from "./samplers.fixtures.js";

const TOLERANCE = 1e-6;

interface GoldenEvaluation {
  readonly model_input: number[];
  readonly model_output: number[];
  readonly noise: number[] | null;
  readonly prev_sample: number[];
}
interface GoldenRun {
  readonly timesteps: number[];
  readonly sigmas: number[];
  readonly init_noise_sigma: number;
  readonly initial_sample: number[];
  readonly evaluations: GoldenEvaluation[];
}
interface FewStepGoldens {
  readonly config: ManifestSchedulerSection;
  readonly presets: Record<string, ManifestSchedulerSection>;
  readonly runs: Partial<Record<SamplerName, Record<string, GoldenRun>>>;
}

const goldens = JSON.parse(
  readFileSync(fileURLToPath(new URL("../../test/goldens/schedulers/few-step.json", import.meta.url)), "utf8"),
) as FewStepGoldens;
const config = parseSchedulerConfig(goldens.config);

/** max_j |actual_j - expected_j| / max_j scale_j: the step error against the magnitudes the step combined. */
function errorAgainstScale(actual: ArrayLike<number>, expected: ArrayLike<number>, scale: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  let error = 0;
  let largest = 0;
  for (let j = 0; j < expected.length; j++) {
    const difference = Math.abs((actual[j] ?? Number.NaN) - (expected[j] ?? Number.NaN));
    error = Number.isNaN(difference) ? Number.POSITIVE_INFINITY : Math.max(error, difference);
    largest = Math.max(largest, scale[j] ?? 0);
  }
  return largest === 0 ? error : error / largest;
}

/** sigma_up of an ancestral step from sigma_from to sigma_to (k-diffusion's get_ancestral_step, eta 1). */
function ancestralSigmaUp(sigmaFrom: number, sigmaTo: number): number {
  return Math.sqrt((sigmaTo * sigmaTo * (sigmaFrom * sigmaFrom - sigmaTo * sigmaTo)) / (sigmaFrom * sigmaFrom));
}

/** Each golden step replayed from diffusers' own input sample; the worst errors of the run. */
function replayEachStep(sampler: SamplerName, steps: number, run: GoldenRun): { input: number; output: number } {
  const schedule = createSchedule(sampler, steps, config);
  const noise = explicitNoise(run.evaluations.map((e) => (e.noise ? Float32Array.from(e.noise) : undefined)));
  const worst = { input: 0, output: 0 };
  let sample = Float32Array.from(run.initial_sample);
  for (const [i, golden] of run.evaluations.entries()) {
    const state: SamplerState = { schedule, evaluationIndex: i, carry: null };
    const input = scaleModelInput(state, sample);
    worst.input = Math.max(worst.input, errorAgainstScale(input, golden.model_input, Array.from(sample, Math.abs)));
    const eps = Float32Array.from(golden.model_output);
    const { prevSample } = step(state, eps, sample, noise);
    const [sigma = Number.NaN, sigmaNext = Number.NaN] = schedule.sigmas.subarray(i, i + 2);
    const sigmaUp = golden.noise ? ancestralSigmaUp(sigma, sigmaNext) : 0;
    const scale = Array.from(
      sample,
      (x, j) => Math.abs(x) + sigma * Math.abs(eps[j] ?? Number.NaN) + sigmaUp * Math.abs(golden.noise?.[j] ?? 0),
    );
    worst.output = Math.max(worst.output, errorAgainstScale(prevSample, golden.prev_sample, scale));
    sample = Float32Array.from(golden.prev_sample);
  }
  return worst;
}

describe("few-step bases' trailing schedules", () => {
  it("Should give every few-step preset the config the goldens were recorded with", () => {
    expect(Object.keys(goldens.presets).sort()).toEqual(["lightning-2step", "lightning-4step", "lightning-8step", "turbo"]);
    for (const preset of Object.values(goldens.presets)) expect(parseSchedulerConfig(preset)).toEqual(config);
    expect(config.timestepSpacing).toBe("trailing");
  });

  const cases = Object.entries(goldens.runs).flatMap(([sampler, runs]) =>
    Object.entries(runs).map(([steps, run]) => [sampler as SamplerName, Number(steps), run] as const),
  );
  it("Should cover Euler and Euler ancestral at 1, 2, 4 and 8 steps", () => {
    expect(cases.map(([sampler, steps]) => `${sampler}-${steps}`).sort()).toEqual(
      ["euler", "euler_ancestral"].flatMap((s) => [1, 2, 4, 8].map((n) => `${s}-${n}`)).sort(),
    );
  });

  it.each(cases)("Should equal diffusers' %s timesteps, sigmas and init_noise_sigma at %i steps within 1e-6", (sampler, steps, run) => {
    const schedule = createSchedule(sampler, steps, config);
    expect(schedule.timesteps.length).toBe(run.timesteps.length);
    expect(entrywiseError(schedule.timesteps, run.timesteps)).toBeLessThanOrEqual(TOLERANCE);
    expect(entrywiseError(schedule.sigmas, run.sigmas)).toBeLessThanOrEqual(TOLERANCE);
    expect(entrywiseError([schedule.initNoiseSigma], [run.init_noise_sigma])).toBeLessThanOrEqual(TOLERANCE);
    const state = startSampling(schedule);
    expect(currentTimestep(state)).toBe(config.numTrainTimesteps - 1); // trailing starts at the last training step
  });

  it.each(cases)("Should equal diffusers' %s scale_model_input and step at %i steps within 1e-6", (sampler, steps, run) => {
    const worst = replayEachStep(sampler, steps, run);
    expect(worst.input).toBeLessThanOrEqual(TOLERANCE);
    expect(worst.output).toBeLessThanOrEqual(TOLERANCE);
  });

  it("Should fail a step result that is off by 1e-4 (the step magnitudes here are below 100), so the check can fail", () => {
    const found = cases.find(([s, n]) => s === "euler" && n === 4);
    if (!found) throw new Error("few-step.json lacks the Euler 4-step run");
    const [sampler, steps, run] = found;
    const shifted: GoldenRun = {
      ...run,
      evaluations: run.evaluations.map((e, i) =>
        i === 1 ? { ...e, prev_sample: e.prev_sample.map((v, j) => (j === 0 ? v + 1e-4 : v)) } : e,
      ),
    };
    expect(replayEachStep(sampler, steps, run).output).toBeLessThanOrEqual(TOLERANCE);
    expect(replayEachStep(sampler, steps, shifted).output).toBeGreaterThan(TOLERANCE);
  });
});
