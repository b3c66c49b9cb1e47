import type { GpuJobSpec } from "@ecomid/shared/protocol";

/**
 * A job the GPU function makes for itself (its warm-up, a rehearsal, tests): one reference image given inline,
 * EcomID's shipped workflow settings (fidelity, ID 0.3, structure 0.8, CFG 3.5), euler, no provenance label; `overrides`
 * for the rest.
 */
export function localJobSpec(
  reference: { bytes: number; contentType: GpuJobSpec["reference_images"][number]["content_type"] },
  overrides: Partial<GpuJobSpec>,
): GpuJobSpec {
  return {
    prompt: "a portrait",
    negative_prompt: "",
    reference_images: [{ url: "local", content_type: reference.contentType, sha256: "", bytes: reference.bytes }],
    keypoints: { type: "reference" },
    identity_strength: 0.3,
    structure_strength: 0.8,
    id_mode: "fidelity",
    id_noise: 0,
    steps: 1,
    guidance: 3.5,
    sampler: "euler",
    seed: 0,
    width: 512,
    height: 512,
    num_outputs: 1,
    output_format: "png",
    output_quality: 90,
    // Its outputs stay in this process: labelling them is what a caller asks for, not a default.
    provenance: { embed: "none", include_prompt: false },
    ...overrides,
  };
}
