import type { GpuJobSpec } from "@ecomid/shared/protocol";

/** The reference job of the tiny bundle (reference/index.json `parameters`). */
export interface ReferenceParameters {
  prompt: string;
  negative_prompt: string;
  width: number;
  height: number;
  steps: number;
  guidance: number;
  identity_weight: number;
  structure_strength: number;
  id_mode: "fidelity";
  image: string;
}

/** The GPU job spec of the reference run, for parity tests and the pipeline benchmark. */
export function referenceJobSpec(
  p: ReferenceParameters,
  sampler: GpuJobSpec["sampler"],
  imageBytes: number,
  overrides: Partial<GpuJobSpec> = {},
): GpuJobSpec {
  return {
    prompt: p.prompt,
    negative_prompt: p.negative_prompt,
    reference_images: [{ url: "unused", content_type: "image/png", sha256: "x", bytes: imageBytes }],
    keypoints: { type: "reference" },
    identity_strength: p.identity_weight,
    structure_strength: p.structure_strength,
    id_mode: p.id_mode,
    id_noise: 0,
    steps: p.steps,
    guidance: p.guidance,
    sampler,
    seed: 1,
    width: p.width,
    height: p.height,
    num_outputs: 1,
    output_format: "png",
    output_quality: 90,
    // Parity is about pixels; the tests that check labels ask for them.
    provenance: { embed: "none", include_prompt: false },
    ...overrides,
  };
}
