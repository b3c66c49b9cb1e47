import { describe, expect, it } from "vitest";
import {
  chooseDenoiserVariant,
  findDenoiserVariant,
  LEGACY_DENOISER_VARIANTS,
  usedControlNets,
  type ControlNetName,
  type DenoiserVariant,
} from "./denoiser-variants.js";

const variant = (graph: DenoiserVariant["graph"], ...controlnets: ControlNetName[]): DenoiserVariant => ({ graph, controlnets });
const graphFor = (variants: readonly DenoiserVariant[], ...used: ControlNetName[]) => chooseDenoiserVariant(variants, new Set(used)).graph;

const EVERY_COMBINATION = [
  variant("denoiser_no_control"),
  variant("denoiser", "identitynet"),
  variant("denoiser_inpaint", "identitynet", "inpaint"),
  variant("denoiser_softedge", "identitynet", "softedge"),
  variant("denoiser_inpaint_softedge", "identitynet", "inpaint", "softedge"),
];

describe("which ControlNets a job uses", () => {
  it("are those with a strength above 0", () => {
    expect([...usedControlNets({ cnScale: 0.8 })]).toEqual(["identitynet"]);
    expect([...usedControlNets({ cnScale: 0 })]).toEqual([]);
    expect([...usedControlNets({ cnScale: 0, inpaint: { scale: 1 }, softedge: { scale: 0 } })]).toEqual(["inpaint"]);
    expect([...usedControlNets({ cnScale: 0.5, inpaint: { scale: 1 }, softedge: { scale: 0.6 } })]).toEqual([
      "identitynet",
      "inpaint",
      "softedge",
    ]);
  });
});

describe("the denoiser variant", () => {
  it("of a bundle made before issue 14 is today's: the IdentityNet graph when its scale is above 0, else the bare one", () => {
    expect(graphFor(LEGACY_DENOISER_VARIANTS, "identitynet")).toBe("denoiser");
    expect(graphFor(LEGACY_DENOISER_VARIANTS)).toBe("denoiser_no_control");
  });

  it("is the smallest that covers the ControlNets used", () => {
    expect(graphFor(EVERY_COMBINATION)).toBe("denoiser_no_control");
    expect(graphFor(EVERY_COMBINATION, "identitynet")).toBe("denoiser");
    expect(graphFor(EVERY_COMBINATION, "inpaint")).toBe("denoiser_inpaint");
    expect(graphFor(EVERY_COMBINATION, "identitynet", "softedge")).toBe("denoiser_softedge");
    expect(graphFor(EVERY_COMBINATION, "inpaint", "softedge")).toBe("denoiser_inpaint_softedge");
  });

  it("does not depend on the manifest's order, except between equally small ones (the first listed)", () => {
    const reversed = [...EVERY_COMBINATION].reverse();
    expect(graphFor(reversed, "inpaint")).toBe("denoiser_inpaint");
    expect(graphFor(reversed)).toBe("denoiser_no_control");
    const twins = [variant("denoiser_softedge", "inpaint", "softedge"), variant("denoiser_inpaint", "identitynet", "inpaint")];
    expect(graphFor(twins, "inpaint")).toBe("denoiser_softedge");
    expect(graphFor([...twins].reverse(), "inpaint")).toBe("denoiser_inpaint");
  });

  it("may carry ControlNets the job does not use when the bundle has nothing smaller", () => {
    const onlyFull = [variant("denoiser_inpaint_softedge", "identitynet", "inpaint", "softedge")];
    expect(graphFor(onlyFull)).toBe("denoiser_inpaint_softedge");
    expect(graphFor(onlyFull, "softedge")).toBe("denoiser_inpaint_softedge");
  });

  it("is missing when no graph has every ControlNet used, and choosing then names what the bundle offers", () => {
    expect(findDenoiserVariant(LEGACY_DENOISER_VARIANTS, new Set(["inpaint"]))).toBeUndefined();
    const partial = [variant("denoiser", "identitynet"), variant("denoiser_inpaint", "identitynet", "inpaint")];
    expect(findDenoiserVariant(partial, new Set(["inpaint", "softedge"]))).toBeUndefined();
    expect(() => graphFor(partial, "softedge")).toThrow("the bundle offers [identitynet], [identitynet, inpaint]");
  });
});
