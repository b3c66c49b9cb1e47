import { karrasSigmas } from "./karras-sigmas.js";
import { roundHalfEven, sigmaAtTimestep, sigmaToTimestep, spacedTimesteps, trainingNoiseLevels } from "./noise-levels.js";
import type { NoiseScheduleConfig, SamplerDefinition, SamplerState, SamplingSchedule, StepResult } from "./types.js";

const f32 = Math.fround;

/**
 * DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++", algorithm 2; diffusers' DPMSolverMultistepScheduler with
 * algorithm_type dpmsolver++, solver_order 2, midpoint). Works on the variance-preserving sample
 * x = alpha x0 + sigma_vp eps with alpha = 1 / sqrt(s^2 + 1), sigma_vp = s * alpha, so the model input is not
 * scaled and the initial noise has unit variance. First order on the first step and on the last step (which lands
 * on sigma 0, diffusers' final_sigmas_type "zero"); second order in between, from the previous denoised estimate.
 */
function dpmSolverSchedule(
  sampler: "dpmpp_2m_karras" | "dpm_solver_trailing",
  steps: number,
  config: NoiseScheduleConfig,
): SamplingSchedule {
  const levels = trainingNoiseLevels(config);
  let timesteps: Float64Array;
  const sigmas = new Float64Array(steps + 1);
  if (sampler === "dpmpp_2m_karras") {
    // Karras over the model's full range; timesteps are the rounded table positions of those sigmas.
    const table = levels.sigmas;
    const karras = karrasSigmas(table[0]!, table[table.length - 1]!, steps);
    timesteps = karras.map((sigma) => roundHalfEven(sigmaToTimestep(sigma, levels, "float64")));
    karras.forEach((sigma, k) => (sigmas[k] = f32(sigma)));
  } else {
    // Lightning/Turbo bundles are distilled for trailing spacing, whatever the base model's config says.
    timesteps = spacedTimesteps({ ...config, timestepSpacing: "trailing" }, steps);
    timesteps.forEach((t, k) => (sigmas[k] = sigmaAtTimestep(levels, t)));
  }
  return {
    sampler,
    steps,
    sigmas,
    timesteps,
    evaluationSigmas: sigmas.slice(0, steps),
    modelInputDivisors: new Float64Array(steps).fill(1),
    initNoiseSigma: 1,
  };
}

/** alpha, sigma_vp and lambda = log(alpha / sigma_vp) of a variance-exploding sigma, in float32 like diffusers. */
function varianceCoordinates(sigma: number): { alpha: number; sigmaVp: number; lambda: number } {
  const alpha = f32(1 / f32(Math.sqrt(f32(f32(sigma * sigma) + 1))));
  const sigmaVp = f32(sigma * alpha);
  return { alpha, sigmaVp, lambda: f32(f32(Math.log(alpha)) - f32(Math.log(sigmaVp))) };
}

function dpmSolverStep(state: SamplerState, modelOutput: Float32Array, sample: Float32Array): StepResult {
  const { sigmas, steps } = state.schedule;
  const i = state.evaluationIndex;
  const current = varianceCoordinates(sigmas[i]!);
  // The denoised estimate x0 = (x - sigma_vp eps) / alpha, kept in float32 as the history diffusers keeps.
  const denoised = new Float32Array(sample.length);
  for (let j = 0; j < sample.length; j++) denoised[j] = (sample[j]! - current.sigmaVp * modelOutput[j]!) / current.alpha;
  const prevSample = new Float32Array(sample.length);
  const next = { schedule: state.schedule, evaluationIndex: i + 1, carry: denoised };
  if (sigmas[i + 1] === 0) {
    // lambda_next = +inf: the first-order update collapses to the denoised estimate.
    prevSample.set(denoised);
    return { prevSample, state: next };
  }
  const target = varianceCoordinates(sigmas[i + 1]!);
  const h = target.lambda - current.lambda;
  const sampleScale = target.sigmaVp / current.sigmaVp;
  const denoisedScale = -target.alpha * Math.expm1(-h);
  const previous = state.carry;
  if (i === 0 || i === steps - 1 || !previous) {
    for (let j = 0; j < sample.length; j++) prevSample[j] = sampleScale * sample[j]! + denoisedScale * denoised[j]!;
    return { prevSample, state: next };
  }
  // Second order: D1 = (x0_i - x0_{i-1}) / r with r = h_prev / h, taken at half weight (the midpoint variant).
  const last = varianceCoordinates(sigmas[i - 1]!);
  const r = (current.lambda - last.lambda) / h;
  const correction = (0.5 * denoisedScale) / r;
  for (let j = 0; j < sample.length; j++) {
    prevSample[j] = sampleScale * sample[j]! + denoisedScale * denoised[j]! + correction * (denoised[j]! - previous[j]!);
  }
  return { prevSample, state: next };
}

export const dpmppTwoMKarras: SamplerDefinition = {
  name: "dpmpp_2m_karras",
  schedule: (steps, config) => dpmSolverSchedule("dpmpp_2m_karras", steps, config),
  step: dpmSolverStep,
};

export const dpmSolverTrailing: SamplerDefinition = {
  name: "dpm_solver_trailing",
  schedule: (steps, config) => dpmSolverSchedule("dpm_solver_trailing", steps, config),
  step: dpmSolverStep,
};
