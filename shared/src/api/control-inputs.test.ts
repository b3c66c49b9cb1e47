import { describe, expect, it } from "vitest";
import { CreateJobRequest, createJobRequestFor, defaultKeypoints, InpaintInput, JobInput, SoftedgeInput } from "./job-input.js";

const url = { url: "https://example.com/x.png" };
const base = { reference_images: [url], prompt: "p" };
const issuesOf = (r: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) =>
  (r.error?.issues ?? []).map((i) => `${i.path.join("/")}: ${i.message}`);

describe("the inpaint input", () => {
  it("fills the contract's defaults and the model card's strength", () => {
    expect(InpaintInput.parse({ image: url, mask: url })).toEqual({
      image: url,
      mask: url,
      mask_from: "mask",
      grow: 0,
      feather: 8,
      strength: 0.5,
      keep_unmasked: true,
    });
  });

  it("needs a mask unless it comes from alpha, and none then", () => {
    expect(issuesOf(InpaintInput.safeParse({ image: url }))).toEqual(['mask: a mask is required unless mask_from is "alpha"']);
    expect(issuesOf(InpaintInput.safeParse({ image: url, mask: url, mask_from: "alpha" }))).toEqual([
      'mask: mask_from "alpha" takes the mask from the image: send no mask',
    ]);
    expect(InpaintInput.safeParse({ image: url, mask_from: "alpha" }).success).toBe(true);
  });
});

describe("the softedge input", () => {
  it("takes exactly one of a photo or an edge map, a detector only with the photo", () => {
    expect(SoftedgeInput.parse({ edge_map: url })).toEqual({ edge_map: url, strength: 0.6 });
    expect(SoftedgeInput.safeParse({ image: url, detector: "hed" }).success).toBe(true);
    expect(issuesOf(SoftedgeInput.safeParse({ image: url, edge_map: url }))).toHaveLength(1);
    expect(issuesOf(SoftedgeInput.safeParse({}))).toHaveLength(1);
    expect(issuesOf(SoftedgeInput.safeParse({ edge_map: url, detector: "pidinet" }))).toEqual([
      "detector: a detector applies to image only: an edge_map is used as is",
    ]);
  });
});

describe("a job with them", () => {
  it("leaves the size unset for the edge to resolve, and asks intermediates for their input", () => {
    const parsed = JobInput.parse({ ...base, inpaint: { image: url, mask: url }, return_intermediates: ["inpaint_mask"] });
    expect(parsed.width).toBeUndefined();
    expect(issuesOf(JobInput.safeParse({ ...base, return_intermediates: ["edge_map"] }))).toEqual([
      "return_intermediates/0: edge_map needs a softedge input",
    ]);
  });

  it("leaves the keypoints unset for the edge to choose, and takes inpaint_image keypoints only beside inpaint", () => {
    expect(JobInput.parse(base).keypoints).toBeUndefined();
    expect(issuesOf(JobInput.safeParse({ ...base, keypoints: { type: "inpaint_image" } }))).toEqual([
      "keypoints/type: inpaint_image keypoints need an inpaint input",
    ]);
    expect(defaultKeypoints({ inpaint: { image: url } })).toEqual({ type: "inpaint_image" });
    expect(defaultKeypoints({})).toEqual({ type: "reference" });
  });

  it("takes the same image refs as reference images: parts only where a request has parts", () => {
    const withParts = { model: "ecomid-sdxl", input: { ...base, inpaint: { image: { file: "product" }, mask: { file: "mask" } } } };
    expect(CreateJobRequest.safeParse(withParts).success).toBe(true);
    const jsonIssues = issuesOf(createJobRequestFor([sdxlModel()], "json").safeParse(withParts));
    expect(jsonIssues.some((i) => i.startsWith("input/inpaint/image"))).toBe(true);
    expect(createJobRequestFor([sdxlModel()], "parts").safeParse(withParts).success).toBe(true);
  });
});

/** A model as the catalog lists ecomid-sdxl (edge/src/config/models.ts), its defaults left to the API's. */
function sdxlModel(): Parameters<typeof createJobRequestFor>[0][number] {
  return {
    id: "ecomid-sdxl",
    object: "model",
    bundle_version: "ecomid-sdxl@1.1.0",
    description: "",
    fixture: false,
    defaults: {},
    limits: {
      min_side: 512,
      max_side: 2048,
      max_pixels: 1536 * 1536,
      side_multiple: 8,
      max_steps: 100,
      max_prompt_tokens: 75,
      samplers: ["euler"],
    },
    capabilities: { controlnets: ["identitynet", "inpaint", "softedge"], edge_detectors: ["pidinet", "hed"] },
    provenance: { default: "c2pa+iptc", embeds: ["c2pa+iptc", "iptc", "none"] },
    licences: [],
  };
}
