import { MODEL_PROVENANCE, type Model } from "@ecomid/shared/api";

const ALL_SAMPLERS: Model["limits"]["samplers"] = ["euler", "euler_ancestral", "dpmpp_2m_karras", "dpm_2_karras", "dpm_solver_trailing"];
/** The bundles' tokenizer (manifest `tokenizer.max_length`, 77) less its start and end tokens. */
const CLIP_PROMPT_TOKENS = 75;
/**
 * Every ControlNet and both soft-edge detectors: what infra/export builds into a bundle made
 * with the EcomXL Inpaint and Softedge ControlNets and controlnet_aux's annotators
 * (lllyasviel/Annotators: PidiNet and HED), as the tiny bundle is, at tiny widths.
 */
const ECOMXL_CAPABILITIES: Model["capabilities"] = {
  controlnets: ["identitynet", "inpaint", "softedge"],
  edge_detectors: ["pidinet", "hed"],
};
const ANTELOPE_LICENCE = "insightface antelopev2 (face detection and recognition): non-commercial research use only";
/** The samplers that walk the trailing schedule a few-step base was distilled on (infra/export few_step_presets.py). */
const FEW_STEP_SAMPLERS: Model["limits"]["samplers"] = ["euler", "euler_ancestral"];

/**
 * A few-step bundle (`infra/export --few-step <preset>`): the full-size model with SDXL Lightning fused in, or on
 * SDXL Turbo, whose defaults and limits are the preset's (its distilled step count, guidance 1 = no unconditional
 * pass, Euler on trailing timesteps, its training size). test/node/few-step-catalog.test.ts holds these to the
 * exporter's presets, which cite the model cards.
 */
function fewStepModel(
  id: string,
  preset: { steps: number; maxSteps: number; sampler: "euler" | "euler_ancestral"; side: number },
  description: string,
  licence: string,
): Model {
  const full = MODEL_CATALOG_FULL_SIZE;
  return {
    ...full,
    id,
    bundle_version: `${id}@1.1.0`,
    description,
    defaults: { ...full.defaults, steps: preset.steps, guidance: 1, sampler: preset.sampler, width: preset.side, height: preset.side },
    limits: { ...full.limits, max_steps: preset.maxSteps, samplers: FEW_STEP_SAMPLERS },
    licences: [...full.licences, licence],
  };
}

/** The full-size EcomID bundle (infra/export real mode with the EcomXL ControlNets and the annotators). */
const MODEL_CATALOG_FULL_SIZE: Model = {
  id: "ecomid-sdxl",
  object: "model",
  // 1.1.0: the bundle with the EcomXL Inpaint and Softedge ControlNets and both edge detectors. A GPU
  // function still serving a 1.0.0 bundle (IdentityNet only) refuses these jobs as bundle_mismatch.
  bundle_version: "ecomid-sdxl@1.1.0",
  description:
    "EcomID on EcomXL (SDXL): PuLID ID encoder and ID attention + IdentityNet keypoint ControlNet, with the EcomXL Inpaint and Softedge ControlNets.",
  fixture: false,
  defaults: {
    steps: 25,
    guidance: 3.5,
    sampler: "dpm_2_karras",
    identity_strength: 0.3,
    structure_strength: 0.8,
    id_mode: "fidelity",
    width: 1024,
    height: 1024,
  },
  limits: {
    min_side: 512,
    max_side: 2048,
    max_pixels: 1536 * 1536,
    side_multiple: 8,
    max_steps: 100,
    max_prompt_tokens: CLIP_PROMPT_TOKENS,
    samplers: ALL_SAMPLERS,
  },
  capabilities: ECOMXL_CAPABILITIES,
  provenance: MODEL_PROVENANCE,
  licences: [
    "SDXL: CreativeML Open RAIL++-M",
    "EcomID IdentityNet: Apache-2.0",
    "PuLID: Apache-2.0",
    "EcomXL Inpaint and Softedge ControlNets: Apache-2.0",
    "PidiNet and HED annotators (lllyasviel/Annotators): see their repository",
    ANTELOPE_LICENCE,
  ],
};

/**
 * The models this edge can offer. ENABLED_MODELS picks those on offer per
 * environment; GPU_POOLS says where each runs. `bundle_version` names the model
 * bundle as its manifest does (`id@version`): a GPU function serving another bundle
 * refuses the job, and it is part of the result-cache key, so a new bundle never
 * serves old outputs.
 */
export const MODEL_CATALOG: readonly Model[] = [
  MODEL_CATALOG_FULL_SIZE,
  fewStepModel(
    "ecomid-sdxl-lightning-4step",
    { steps: 4, maxSteps: 4, sampler: "euler", side: 1024 },
    "EcomID on EcomXL with ByteDance's SDXL-Lightning 4-step LoRA fused in: four steps, no classifier-free guidance.",
    "SDXL-Lightning (ByteDance): CreativeML Open RAIL++-M",
  ),
  fewStepModel(
    "ecomid-sdxl-turbo",
    { steps: 1, maxSteps: 4, sampler: "euler_ancestral", side: 512 },
    "EcomID on SDXL Turbo: one to four steps at 512x512, no classifier-free guidance.",
    "SDXL Turbo: Stability AI non-commercial research community licence (commercial use needs Stability AI's licence)",
  ),
  {
    id: "ecomid-tiny",
    object: "model",
    bundle_version: "ecomid-tiny@0.1.0",
    description: "Test fixture: the real EcomID architectures at tiny widths with random weights. It generates noise, fast, on CPU.",
    fixture: true,
    defaults: {
      steps: 4,
      guidance: 3.5,
      sampler: "euler",
      identity_strength: 0.3,
      structure_strength: 0.8,
      id_mode: "fidelity",
      width: 64,
      height: 64,
    },
    // The tiny UNet downsamples its latents three times, so sides are multiples of 64 (bundle manifest `limits`).
    limits: {
      min_side: 64,
      max_side: 256,
      max_pixels: 256 * 256,
      side_multiple: 64,
      max_steps: 50,
      max_prompt_tokens: CLIP_PROMPT_TOKENS,
      samplers: ALL_SAMPLERS,
    },
    capabilities: ECOMXL_CAPABILITIES,
    provenance: MODEL_PROVENANCE,
    licences: ["fixture with random weights: no licence restrictions"],
  },
];
