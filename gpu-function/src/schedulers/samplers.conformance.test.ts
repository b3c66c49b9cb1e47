/**
 * The one conformance suite every sampler runs: diffusers' schedules (bundles/tiny/reference/schedulers.json and
 * the extra step counts of the goldens), diffusers' step outputs (gpu-function/test/goldens/schedulers), and the
 * contract of the pure interface (no mutation, explicit state, uniform loop).
 *
 * Tolerances, stated once:
 * - schedules: |ours - diffusers| <= 1e-6 * max(1, |diffusers|) per entry (relative above 1, absolute below);
 *   what remains are float32 ulps of torch's and numpy's own sqrt/log, which are not correctly rounded.
 * - steps: max |ours - diffusers| <= 1e-5 * max |diffusers| over each prev_sample, with every step taken from our own
 *   previous output (errors accumulate as they would in the pipeline).
 */
import { describe, expect, it } from "vitest";
import {
  createSchedule,
  currentTimestep,
  explicitNoise,
  isFinished,
  parseSchedulerConfig,
  SAMPLER_NAMES,
  scaleInitialNoise,
  scaleModelInput,
  seededNoiseSource,
  startSampling,
  step,
  type SamplerState,
} from "./index.js";
import {
  diffusersSigmaLayout,
  entrywiseError,
  readGoldenIndex,
  readGoldenRun,
  readManifestScheduler,
  readScheduleTables,
  relativeMaxError,
  type GoldenRun,
} from "./samplers.fixtures.js";

const SCHEDULE_TOLERANCE = 1e-6;
const STEP_TOLERANCE = 1e-5;

const config = parseSchedulerConfig(readManifestScheduler());
const bundleTables = readScheduleTables();
const goldens = readGoldenIndex();

/** Replays a golden run through our step; returns the worst relative errors seen. */
function replay(run: GoldenRun): { input: number; output: number; timestep: number; initial: number } {
  const schedule = createSchedule(run.meta.sampler, run.meta.steps, config);
  const noise = explicitNoise(run.evaluations.map((evaluation) => evaluation.noise));
  let sample = scaleInitialNoise(run.initialNoise, schedule);
  const worst = { input: 0, output: 0, timestep: 0, initial: relativeMaxError(sample, run.initialSample) };
  let state = startSampling(schedule);
  for (const [i, golden] of run.evaluations.entries()) {
    worst.timestep = Math.max(worst.timestep, entrywiseError([currentTimestep(state)], [run.meta.timesteps[i]!]));
    worst.input = Math.max(worst.input, relativeMaxError(scaleModelInput(state, sample), golden.modelInput));
    ({ prevSample: sample, state } = step(state, golden.modelOutput, sample, noise));
    worst.output = Math.max(worst.output, relativeMaxError(sample, golden.prevSample));
  }
  expect(isFinished(state)).toBe(true);
  return worst;
}

describe.each(SAMPLER_NAMES)("sampler %s", (sampler) => {
  const extraTables = (goldens as unknown as { schedules: typeof bundleTables }).schedules[sampler];
  const tables = Object.entries({ ...bundleTables[sampler], ...extraTables });

  it.each(tables)("Should equal diffusers' sigmas, timesteps and init_noise_sigma for %s steps within 1e-6", (steps, table) => {
    const schedule = createSchedule(sampler, Number(steps), config);
    expect(schedule.timesteps.length).toBe(table.timesteps.length);
    expect(entrywiseError(schedule.timesteps, table.timesteps)).toBeLessThanOrEqual(SCHEDULE_TOLERANCE);
    expect(entrywiseError(diffusersSigmaLayout(schedule), table.sigmas)).toBeLessThanOrEqual(SCHEDULE_TOLERANCE);
    expect(entrywiseError([schedule.initNoiseSigma], [table.init_noise_sigma])).toBeLessThanOrEqual(SCHEDULE_TOLERANCE);
  });

  it("Should lay out a schedule the same way for every sampler", () => {
    for (const steps of [1, 2, 4, 25]) {
      const schedule = createSchedule(sampler, steps, config);
      const evaluations = schedule.timesteps.length;
      expect(schedule.sigmas.length).toBe(steps + 1);
      expect(schedule.sigmas[steps]).toBe(0);
      for (let k = 0; k < steps; k++) expect(schedule.sigmas[k]!).toBeGreaterThan(schedule.sigmas[k + 1]!);
      expect(evaluations).toBeGreaterThanOrEqual(steps);
      expect(schedule.evaluationSigmas.length).toBe(evaluations);
      expect(schedule.modelInputDivisors.length).toBe(evaluations);
      for (let i = 0; i < evaluations; i++) {
        expect(schedule.evaluationSigmas[i]!).toBeGreaterThan(0);
        expect(schedule.modelInputDivisors[i]!).toBeGreaterThanOrEqual(1);
        expect(schedule.timesteps[i]!).toBeGreaterThanOrEqual(0);
        expect(schedule.timesteps[i]!).toBeLessThan(config.numTrainTimesteps);
      }
    }
  });

  it("Should refuse step counts that are not positive integers up to the training timesteps", () => {
    for (const steps of [0, -1, 2.5, Number.NaN, 1001]) expect(() => createSchedule(sampler, steps, config)).toThrow(RangeError);
  });

  const cases = goldens.cases.filter((golden) => golden.sampler === sampler);
  it("Should have step goldens for at least two step counts", () => expect(cases.length).toBeGreaterThanOrEqual(2));

  it.each(cases.map((golden) => [golden.steps, golden] as const))(
    "Should reproduce diffusers' scheduler.step outputs for %s steps within 1e-5",
    (_, golden) => {
      const worst = replay(readGoldenRun(golden));
      expect(worst.initial).toBeLessThanOrEqual(STEP_TOLERANCE);
      expect(worst.timestep).toBeLessThanOrEqual(SCHEDULE_TOLERANCE);
      expect(worst.input).toBeLessThanOrEqual(STEP_TOLERANCE);
      expect(worst.output).toBeLessThanOrEqual(STEP_TOLERANCE);
    },
  );

  it("Should leave its inputs untouched and give equal outputs for equal inputs", () => {
    const run = readGoldenRun(cases[0]!);
    const noise = explicitNoise(run.evaluations.map((evaluation) => evaluation.noise));
    let state = startSampling(createSchedule(sampler, run.meta.steps, config));
    let sample: Float32Array = run.initialSample.slice();
    for (const golden of run.evaluations) {
      const before = {
        sample: sample.slice(),
        output: golden.modelOutput.slice(),
        carry: state.carry?.slice() ?? null,
        index: state.evaluationIndex,
      };
      const first = step(state, golden.modelOutput, sample, noise);
      const second = step(state, golden.modelOutput, sample, noise);
      expect(second.prevSample).toEqual(first.prevSample);
      expect(second.state.carry).toEqual(first.state.carry);
      expect(sample).toEqual(before.sample);
      expect(golden.modelOutput).toEqual(before.output);
      expect(state.carry).toEqual(before.carry);
      expect(state.evaluationIndex).toBe(before.index);
      expect(first.prevSample).not.toBe(sample);
      ({ prevSample: sample, state } = first);
    }
  });

  it("Should resume from any saved state exactly as an uninterrupted run", () => {
    const run = readGoldenRun(cases[cases.length - 1]!);
    const noise = explicitNoise(run.evaluations.map((evaluation) => evaluation.noise));
    const schedule = createSchedule(sampler, run.meta.steps, config);
    const saved: { state: SamplerState; sample: Float32Array }[] = [];
    let state = startSampling(schedule);
    let sample = run.initialSample;
    for (const golden of run.evaluations) {
      saved.push({ state, sample });
      ({ prevSample: sample, state } = step(state, golden.modelOutput, sample, noise));
    }
    const resumeAt = saved[Math.floor(saved.length / 2) + 1]!;
    let resumed: { state: SamplerState; sample: Float32Array } = {
      state: { ...resumeAt.state, carry: resumeAt.state.carry?.slice() ?? null },
      sample: resumeAt.sample.slice(),
    };
    for (const golden of run.evaluations.slice(resumed.state.evaluationIndex)) {
      const next = step(resumed.state, golden.modelOutput, resumed.sample, noise);
      resumed = { state: next.state, sample: next.prevSample };
    }
    expect(resumed.sample).toEqual(sample);
  });

  it("Should run the pipeline's loop to the end with seeded noise, reproducibly and finitely", () => {
    const run = (): Float32Array => {
      const schedule = createSchedule(sampler, 6, config);
      const noise = seededNoiseSource(7);
      let state = startSampling(schedule);
      let latents = scaleInitialNoise(noise(1000, 64), schedule);
      while (!isFinished(state)) {
        const input = scaleModelInput(state, latents);
        // A stand-in denoiser whose epsilon is a fixed fraction of its input: enough to exercise every branch.
        const eps = input.map((value) => 0.5 * value);
        ({ prevSample: latents, state } = step(state, eps, latents, noise));
      }
      return latents;
    };
    const first = run();
    expect(first.every(Number.isFinite)).toBe(true);
    expect(run()).toEqual(first);
  });

  it("Should refuse a finished state, and a model output of the wrong length", () => {
    const schedule = createSchedule(sampler, 2, config);
    const finished = { schedule, evaluationIndex: schedule.timesteps.length, carry: null };
    const noise = seededNoiseSource(1);
    expect(() => step(finished, new Float32Array(4), new Float32Array(4), noise)).toThrow(RangeError);
    expect(() => scaleModelInput(finished, new Float32Array(4))).toThrow(RangeError);
    expect(() => step(startSampling(schedule), new Float32Array(3), new Float32Array(4), noise)).toThrow(RangeError);
  });
});

describe("the parity checks themselves", () => {
  it("Should fail a step result that is off by 1e-4 relative, and a timestep that is off by one ulp of 1e-5", () => {
    const run = readGoldenRun(goldens.cases[0]!);
    const golden = run.evaluations[0]!.prevSample;
    const scale = Math.max(...golden.map(Math.abs));
    const perturbed = golden.map((value, j) => (j === 0 ? value + 1e-4 * scale : value));
    expect(relativeMaxError(perturbed, golden)).toBeGreaterThan(STEP_TOLERANCE);
    expect(entrywiseError([961.001], [961])).toBeGreaterThan(SCHEDULE_TOLERANCE);
    expect(relativeMaxError(new Float32Array([Number.NaN]), new Float32Array([1]))).toBe(Number.POSITIVE_INFINITY);
  });
});
