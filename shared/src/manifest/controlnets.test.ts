import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_DENOISER_VARIANTS, ModelBundleManifest } from "./manifest.js";

/** The committed tiny bundle's manifest: it declares both EcomXL ControlNets, a variant that runs them and both
 * soft-edge detectors. */
const tiny = JSON.parse(readFileSync(join(import.meta.dirname, "../../../bundles/tiny/manifest.json"), "utf8")) as Record<
  string,
  unknown
> & {
  graphs: Record<string, { inputs: { name: string }[] }>;
  controlnets: Record<string, { source: string }>;
  denoiser_variants: { graph: string; controlnets: string[] }[];
  edge_detectors: Record<string, { graph: string; source: string }>;
};

function messages(manifest: unknown): string[] {
  const result = ModelBundleManifest.safeParse(manifest);
  return result.success ? [] : result.error.issues.map((i) => i.message);
}

describe("manifest controlnets and denoiser_variants", () => {
  it("accepts the tiny bundle's sections", () => {
    expect(messages(tiny)).toEqual([]);
    expect(Object.keys(tiny.controlnets).sort()).toEqual(["inpaint", "softedge"]);
    expect(tiny.denoiser_variants).toContainEqual({
      graph: "denoiser_inpaint_softedge",
      controlnets: ["identitynet", "inpaint", "softedge"],
    });
    expect(Object.keys(tiny.edge_detectors).sort()).toEqual(["hed", "pidinet"]);
  });

  it("keeps a bundle without the new sections valid (IdentityNet only, the historical variants)", () => {
    const { controlnets: _c, denoiser_variants: _v, edge_detectors: _e, ...older } = tiny;
    const { denoiser_inpaint_softedge: _g, pidinet: _p, hed: _h, ...graphs } = tiny.graphs;
    expect(messages({ ...older, graphs })).toEqual([]);
    expect(DEFAULT_DENOISER_VARIANTS.map((v) => v.graph).sort()).toEqual(["denoiser", "denoiser_no_control"]);
  });

  it("refuses a variant whose graph the bundle lacks", () => {
    const { denoiser_inpaint_softedge: _g, ...graphs } = tiny.graphs;
    expect(messages({ ...tiny, graphs })).toContain("variant graph denoiser_inpaint_softedge is not in graphs");
  });

  it("refuses a variant whose graph does not take a ControlNet's inputs", () => {
    const variants = [...tiny.denoiser_variants, { graph: "denoiser", controlnets: ["identitynet", "inpaint"] }];
    expect(messages({ ...tiny, denoiser_variants: variants })).toContain(
      "denoiser lacks the inputs of ControlNet inpaint (or controlnets.inpaint is missing)",
    );
  });

  it("refuses a ControlNet no variant runs, and a variant naming an undeclared ControlNet", () => {
    const variants = tiny.denoiser_variants.filter((v) => v.graph !== "denoiser_inpaint_softedge");
    expect(messages({ ...tiny, denoiser_variants: variants })).toContain("no denoiser variant runs ControlNet inpaint");
    const { softedge: _s, ...onlyInpaint } = tiny.controlnets;
    expect(messages({ ...tiny, controlnets: onlyInpaint })).toContain(
      "denoiser_inpaint_softedge lacks the inputs of ControlNet softedge (or controlnets.softedge is missing)",
    );
  });

  it("refuses a ControlNet whose source has no licence entry, and an unknown ControlNet name", () => {
    const controlnets = { ...tiny.controlnets, inpaint: { ...tiny.controlnets.inpaint, source: "nowhere" } };
    expect(messages({ ...tiny, controlnets })).toContain("unknown licence source nowhere");
    const variants = [{ graph: "denoiser", controlnets: ["identitynet", "canny"] }];
    expect(ModelBundleManifest.safeParse({ ...tiny, denoiser_variants: variants }).success).toBe(false);
  });

  it("refuses an edge detector whose graph the bundle lacks, or whose source has no licence entry", () => {
    const { pidinet: _p, ...graphs } = tiny.graphs;
    expect(messages({ ...tiny, graphs })).toContain("detector graph pidinet is not in graphs");
    const edge_detectors = { ...tiny.edge_detectors, hed: { graph: "hed", source: "nowhere" } };
    expect(messages({ ...tiny, edge_detectors })).toContain("unknown licence source nowhere");
  });
});
