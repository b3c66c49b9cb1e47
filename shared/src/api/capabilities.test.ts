import { describe, expect, it } from "vitest";
import { capabilitiesUsed, missingCapabilities } from "./capabilities.js";

const url = { url: "https://example.com/x.png" };
const ALL = { controlnets: ["identitynet", "inpaint", "softedge"] as const, edge_detectors: ["pidinet", "hed"] as const };
const offered = (o: Partial<{ controlnets: string[]; edge_detectors: string[] }>) =>
  ({ controlnets: [...ALL.controlnets], edge_detectors: [...ALL.edge_detectors], ...o }) as Parameters<typeof missingCapabilities>[0];

describe("what a job asks of a model's bundle", () => {
  it("is IdentityNet alone for a job without the new inputs", () => {
    expect(capabilitiesUsed({})).toEqual({ controlnets: ["identitynet"], edge_detector: null });
  });

  it("adds each ControlNet whose input is given, and the detector a photo needs (PidiNet unless named)", () => {
    expect(capabilitiesUsed({ inpaint: { image: url }, softedge: { image: url } })).toEqual({
      controlnets: ["identitynet", "inpaint", "softedge"],
      edge_detector: "pidinet",
    });
    expect(capabilitiesUsed({ softedge: { image: url, detector: "hed" } }).edge_detector).toBe("hed");
    expect(capabilitiesUsed({ softedge: { image: undefined } }).edge_detector).toBeNull();
  });

  it("lists what the bundle lacks, each at the field that asks for it", () => {
    const used = capabilitiesUsed({ inpaint: { image: url }, softedge: { image: url, detector: "hed" } });
    expect(missingCapabilities(offered({}), used)).toEqual([]);
    expect(missingCapabilities(offered({ controlnets: ["identitynet"], edge_detectors: ["pidinet"] }), used)).toEqual([
      { pointer: "/input/inpaint", message: "the inpaint ControlNet" },
      { pointer: "/input/softedge", message: "the softedge ControlNet" },
      { pointer: "/input/softedge/detector", message: "the hed edge detector" },
    ]);
  });
});
