import { eulerSchedule } from "./euler.js";
import type { NoiseSource, SamplerDefinition, SamplerState, StepResult } from "./types.js";

/**
 * Euler ancestral (k-diffusion `sample_euler_ancestral`, eta = 1): an Euler step down to sigma_down, then fresh
 * noise of standard deviation sigma_up, where sigma_up^2 = sigma_to^2 (sigma_from^2 - sigma_to^2) / sigma_from^2 and
 * sigma_down^2 + sigma_up^2 = sigma_to^2, so the marginal noise level still lands on sigma_to.
 */
export const eulerAncestral: SamplerDefinition = {
  name: "euler_ancestral",
  schedule: (steps, config) => eulerSchedule("euler_ancestral", steps, config),
  step(state: SamplerState, modelOutput: Float32Array, sample: Float32Array, noise: NoiseSource | undefined): StepResult {
    if (!noise) throw new TypeError("euler_ancestral needs a noise source");
    const { sigmas } = state.schedule;
    const i = state.evaluationIndex;
    const sigmaFrom = sigmas[i]!;
    const sigmaTo = sigmas[i + 1]!;
    const sigmaUp = Math.sqrt((sigmaTo * sigmaTo * (sigmaFrom * sigmaFrom - sigmaTo * sigmaTo)) / (sigmaFrom * sigmaFrom));
    const sigmaDown = Math.sqrt(Math.max(0, sigmaTo * sigmaTo - sigmaUp * sigmaUp));
    const dt = sigmaDown - sigmaFrom;
    const fresh = noise(i, sample.length);
    if (fresh.length !== sample.length)
      throw new RangeError(`noise source returned ${fresh.length} values for a sample of ${sample.length}`);
    const prevSample = new Float32Array(sample.length);
    for (let j = 0; j < sample.length; j++) prevSample[j] = sample[j]! + modelOutput[j]! * dt + fresh[j]! * sigmaUp;
    return { prevSample, state: { schedule: state.schedule, evaluationIndex: i + 1, carry: null } };
  },
};
