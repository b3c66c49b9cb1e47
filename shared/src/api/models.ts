import { z } from "zod";
import { ControlNetName, EdgeDetector, Sampler } from "./job-input.js";
import { ModelProvenance } from "./provenance.js";

export const ModelLimits = z
  .object({
    min_side: z.number().int(),
    max_side: z.number().int(),
    max_pixels: z.number().int(),
    side_multiple: z.number().int().describe("width and height must be multiples of this"),
    max_steps: z.number().int(),
    max_prompt_tokens: z
      .number()
      .int()
      .describe(
        "CLIP tokens a prompt (and a negative prompt) may have: one 77-token window less its start and end tokens; a longer one is refused with 422",
      ),
    samplers: z.array(Sampler),
  })
  .meta({ id: "ModelLimits" });
export type ModelLimits = z.infer<typeof ModelLimits>;

export const ModelCapabilities = z
  .object({
    controlnets: z
      .array(ControlNetName)
      .describe("the ControlNets the model's bundle has: identitynet always, inpaint and softedge where the bundle was built with them"),
    edge_detectors: z
      .array(EdgeDetector)
      .describe("the detectors softedge.detector may name; empty when a softedge job must give an edge_map"),
  })
  .meta({
    id: "ModelCapabilities",
    description: "What a job may ask of this model; anything else is refused with capability_not_supported.",
  });
export type ModelCapabilities = z.infer<typeof ModelCapabilities>;

export const Model = z
  .object({
    id: z.string(),
    object: z.literal("model"),
    bundle_version: z.string().describe("the model bundle jobs run on; part of the result cache key"),
    description: z.string(),
    fixture: z.boolean().describe("true for the tiny random-weight bundle used in tests: it generates noise"),
    defaults: z.record(z.string(), z.unknown()),
    limits: ModelLimits,
    capabilities: ModelCapabilities,
    provenance: ModelProvenance,
    licences: z.array(z.string()),
  })
  .meta({ id: "Model" });
export type Model = z.infer<typeof Model>;
