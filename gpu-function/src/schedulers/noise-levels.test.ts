import { describe, expect, it } from "vitest";
import { karrasSigmas } from "./karras-sigmas.js";
import { roundHalfEven, sigmaToTimestep, spacedTimesteps, trainingNoiseLevels } from "./noise-levels.js";
import { parseSchedulerConfig } from "./scheduler-config.js";
import { readGoldenIndex, readManifestScheduler } from "./samplers.fixtures.js";

const config = parseSchedulerConfig(readManifestScheduler());

describe("trainingNoiseLevels", () => {
  it("Should equal diffusers' float32 alphas_cumprod bit for bit", () => {
    const expected = readGoldenIndex().alphasCumprod;
    const { alphasCumprod } = trainingNoiseLevels(config);
    expect(Array.from(alphasCumprod)).toEqual(expected);
  });

  it("Should give SDXL's sigma range, 0.0292 to 14.6146", () => {
    const { sigmas } = trainingNoiseLevels(config);
    expect(sigmas[0]).toBeCloseTo(0.0292, 4);
    expect(sigmas[999]).toBeCloseTo(14.6146, 4);
  });
});

describe("sigmaToTimestep", () => {
  const levels = trainingNoiseLevels(config);

  // Up to the float32 rounding of the log table, which is what diffusers interpolates in.
  it("Should return the table position of a table sigma, and clamp outside the table", () => {
    for (const t of [0, 1, 500, 998, 999]) expect(sigmaToTimestep(levels.sigmas[t]!, levels, "float64")).toBeCloseTo(t, 3);
    expect(sigmaToTimestep(1e-6, levels, "float64")).toBe(0);
    expect(sigmaToTimestep(100, levels, "float64")).toBe(999);
  });

  it("Should interpolate in log sigma between neighbours", () => {
    const between = Math.sqrt(levels.sigmas[400]! * levels.sigmas[401]!);
    expect(sigmaToTimestep(between, levels, "float64")).toBeCloseTo(400.5, 2);
  });
});

describe("spacedTimesteps", () => {
  it("Should space leading, trailing and linspace timesteps as diffusers does", () => {
    expect(Array.from(spacedTimesteps({ ...config, timestepSpacing: "leading" }, 4))).toEqual([751, 501, 251, 1]);
    expect(Array.from(spacedTimesteps({ ...config, timestepSpacing: "trailing" }, 4))).toEqual([999, 749, 499, 249]);
    expect(Array.from(spacedTimesteps({ ...config, timestepSpacing: "trailing" }, 3))).toEqual([999, 666, 332]);
    expect(Array.from(spacedTimesteps({ ...config, timestepSpacing: "linspace" }, 3))).toEqual([999, 499.5, 0]);
  });

  it("Should round halves to even like numpy", () => {
    expect([0.5, 1.5, 2.5, -1.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -2, 2, 3]);
  });
});

describe("karrasSigmas", () => {
  it("Should start at sigma_max, end at sigma_min and be evenly spaced in sigma^(1/7)", () => {
    const sigmas = karrasSigmas(0.03, 14, 5);
    expect(sigmas[0]).toBeCloseTo(14, 12);
    expect(sigmas[4]).toBeCloseTo(0.03, 12);
    const roots = Array.from(sigmas, (sigma) => sigma ** (1 / 7));
    for (let k = 1; k < 4; k++) expect(roots[k + 1]! - roots[k]!).toBeCloseTo(roots[1]! - roots[0]!, 12);
    expect(karrasSigmas(0.03, 14, 1).length).toBe(1);
    expect(karrasSigmas(0.03, 14, 1)[0]).toBeCloseTo(14, 12);
  });
});
