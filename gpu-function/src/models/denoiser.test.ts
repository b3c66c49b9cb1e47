import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FLOAT32_UNIT_ROUNDOFF, guidanceAmplification, levelBound } from "../../test/float-bounds.js";
import {
  maxAbs,
  maxAbsDiff,
  openTinyBundle,
  referenceBound,
  referenceF32,
  referenceParameters,
  referenceU8,
  TINY_BUNDLE,
  scaledError,
} from "../../test/reference.js";
import type { ModelBundle } from "../runtime/bundle.js";
import { float32 } from "../runtime/tensor.js";
import { controlImageTensor, Denoiser } from "./denoiser.js";
import { timeIds } from "./text-encoder.js";
import { decodeLatents } from "./vae-decoder.js";

const p = referenceParameters as {
  width: number;
  height: number;
  guidance: number;
  identity_weight: number;
  structure_strength: number;
  id_mode: "fidelity";
};
const tables = JSON.parse(readFileSync(`${TINY_BUNDLE}/reference/schedulers.json`, "utf8")).tables as Record<
  string,
  Record<string, { sigmas: number[]; timesteps: number[]; init_noise_sigma: number }>
>;

async function conditioning(bundle: ModelBundle) {
  const t = (name: string) => {
    const r = referenceF32(name);
    return float32(r.data, r.shape);
  };
  const uncondId = await bundle.constant("uncond_id_tokens");
  const uncondFace = await bundle.constant("uncond_resampler_tokens");
  const cat = (a: Float32Array, b: Float32Array) => Float32Array.from([...a, ...b]);
  const id = referenceF32("id_tokens");
  const face = referenceF32("resampler_tokens");
  const hint = referenceU8("control_image");
  return {
    encoderHiddenStates: t("encoder_hidden_states"),
    textEmbeds: t("text_embeds"),
    timeIds: timeIds(p.height, p.width),
    idTokens: float32(cat(id.data, uncondId.data), [2, ...id.shape.slice(1)]),
    faceTokens: float32(cat(face.data, uncondFace.data), [2, ...face.shape.slice(1)]),
    controlImage: controlImageTensor(hint.data, hint.shape[1]!, hint.shape[0]!),
    idWeight: p.identity_weight,
    idMode: p.id_mode,
    cnScale: p.structure_strength,
    guidance: p.guidance,
  };
}

describe("fused denoiser with CFG", () => {
  it("reproduces the reference's first Euler step within one guided evaluation's float32 bound", async () => {
    const bundle = await openTinyBundle();
    const denoiser = await Denoiser.prepare(bundle, await conditioning(bundle));
    const { sigmas, timesteps, init_noise_sigma } = tables.euler!["4"]!;
    const noise = referenceF32("initial_noise");
    const sample = noise.data.map((v) => v * init_noise_sigma);
    const sigma = sigmas[0]!;
    const input = sample.map((v) => v / Math.sqrt(sigma * sigma + 1));
    const eps = await denoiser.predict(input, noise.shape, timesteps[0]!);
    // Euler on an epsilon model: x + (sigma_next - sigma) * eps.
    const step = sigmas[1]! - sigma;
    const next = sample.map((v, i) => v + step * eps[i]!);
    // The guided prediction is off by at most the denoiser's bound (x guidance) of its scale; the step scales
    // that by |sigma_next - sigma|; the update and the reference's float32 storage round once each.
    const epsScale = Math.max(1, maxAbs(eps));
    const reference = referenceF32("euler_latents_step0").data;
    const allowed = Math.abs(step) * referenceBound({ denoiser: 1 }, guidanceAmplification(p.guidance)) * epsScale;
    const storage = 2 * FLOAT32_UNIT_ROUNDOFF * maxAbs(reference);
    expect(maxAbsDiff(next, reference)).toBeLessThanOrEqual(allowed + storage);
    await bundle.release();
  });
});

describe("VAE decoder", () => {
  it("decodes the reference's final latents to its image within the VAE's float32 bound", async () => {
    const bundle = await openTinyBundle();
    const latents = referenceF32("euler_latents_step3");
    const { decoded, rgb } = await decodeLatents(bundle, latents.data, latents.shape);
    const reference = referenceF32("euler_decoded").data;
    const bound = referenceBound({ vae_decoder: 1 });
    expect(scaledError(decoded.data, reference)).toBeLessThanOrEqual(bound);
    // Pixels are (x + 1) * 127.5, rounded: the float distance in levels, plus one rounding boundary.
    expect(maxAbsDiff(rgb, referenceU8("euler_image").data)).toBeLessThanOrEqual(levelBound(bound * Math.max(1, maxAbs(reference)), 127.5));
    await bundle.release();
  });
});
