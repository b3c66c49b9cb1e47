import type { GpuJobSpec } from "@ecomid/shared/protocol";
import { detectEdges, CARD_EDGE_OPTIONS } from "../models/edge-detector.js";
import { findDenoiserVariant, LEGACY_DENOISER_VARIANTS, usedControlNets, type DenoiserVariant } from "../models/denoiser-variants.js";
import { grayToRgb, luma } from "../preprocess/gray-image.js";
import { prepareInpaint, type InpaintInputs } from "../preprocess/inpaint-inputs.js";
import { maskFromAlpha, maskFromImage } from "../preprocess/inpaint-mask.js";
import { softedgeCondition, type SoftedgeCondition } from "../preprocess/softedge-condition.js";
import type { ModelBundle } from "../runtime/bundle.js";
import { decodeImage, decodeImageKeepingAlpha, type RgbImage } from "../runtime/image.js";
import { JobFailure } from "./job-failure.js";

/** The bytes of a job's inpaint and softedge images, as downloaded (null where the job has none). */
export interface ControlImageBytes {
  inpaintImage: Uint8Array | null;
  inpaintMask: Uint8Array | null;
  softedgeImage: Uint8Array | null;
}

export const NO_CONTROL_IMAGES: ControlImageBytes = { inpaintImage: null, inpaintMask: null, softedgeImage: null };

export interface PreparedControls {
  inpaint: (InpaintInputs & { strength: number }) | null;
  softedge: (SoftedgeCondition & { strength: number }) | null;
}

/** The bundle's denoiser graphs: its manifest's variants, or the two every bundle made before them has. */
export function denoiserVariants(bundle: ModelBundle): readonly DenoiserVariant[] {
  return bundle.manifest.denoiser_variants ?? LEGACY_DENOISER_VARIANTS;
}

/**
 * What the edge checked against its model catalogue, checked again against the bundle this process serves (a
 * catalogue and a bundle can disagree during a rollout): a ControlNet or edge detector the bundle lacks fails the
 * job with capability_not_supported, naming what the bundle has, before any image is decoded.
 */
export function requireCapabilities(spec: GpuJobSpec, bundle: ModelBundle): void {
  const variants = denoiserVariants(bundle);
  const used = usedControlNets({
    cnScale: spec.structure_strength,
    ...(spec.inpaint ? { inpaint: { scale: spec.inpaint.strength } } : {}),
    ...(spec.softedge ? { softedge: { scale: spec.softedge.strength } } : {}),
  });
  const offered = [...new Set(variants.flatMap((v) => v.controlnets))];
  if (!findDenoiserVariant(variants, used)) {
    throw new JobFailure(
      "capability_not_supported",
      `this model's bundle has no denoiser with the ControlNets [${[...used].join(", ")}]; it offers ${offered.join(", ") || "none beyond the UNet"}`,
    );
  }
  const detector = spec.softedge && "image" in spec.softedge ? spec.softedge.detector : null;
  if (detector && !bundle.manifest.edge_detectors?.[detector]) {
    const detectors = Object.keys(bundle.manifest.edge_detectors ?? {});
    throw new JobFailure(
      "capability_not_supported",
      `this model's bundle has no ${detector} edge detector; it offers ${detectors.join(", ") || "none: send an edge_map instead"}`,
    );
  }
}

/** Decodes and prepares the inpaint and softedge conditions at the output size (the contract's order). */
export async function prepareControls(spec: GpuJobSpec, bytes: ControlImageBytes, bundle: ModelBundle): Promise<PreparedControls> {
  return {
    inpaint: spec.inpaint ? await inpaintInputs(spec, spec.inpaint, bytes) : null,
    softedge: spec.softedge ? await softedgeInputs(spec, spec.softedge, bytes, bundle) : null,
  };
}

type SizedSpec = Pick<GpuJobSpec, "width" | "height">;

async function inpaintInputs(
  spec: SizedSpec,
  inpaint: NonNullable<GpuJobSpec["inpaint"]>,
  bytes: ControlImageBytes,
): Promise<InpaintInputs & { strength: number }> {
  const imageBytes = required(bytes.inpaintImage, "inpaint image");
  let image: RgbImage;
  let mask;
  if (inpaint.mask_from === "alpha") {
    // One decode: the mask from its alpha, the image from its colour channels (alpha dropped, as decodeImage does).
    const pixels = await decodeImageKeepingAlpha(imageBytes);
    mask = maskFromAlpha(pixels);
    image = withoutAlpha(pixels);
  } else {
    image = await decodeImage(imageBytes);
    mask = maskFromImage(await decodeImage(required(bytes.inpaintMask, "inpaint mask")));
  }
  const prepared = prepareInpaint(image, mask, {
    width: spec.width,
    height: spec.height,
    grow: inpaint.grow,
    feather: inpaint.feather,
    keepUnmasked: inpaint.keep_unmasked,
  });
  return { ...prepared, strength: inpaint.strength };
}

async function softedgeInputs(
  spec: SizedSpec,
  softedge: NonNullable<GpuJobSpec["softedge"]>,
  bytes: ControlImageBytes,
  bundle: ModelBundle,
): Promise<SoftedgeCondition & { strength: number }> {
  const image = await decodeImage(required(bytes.softedgeImage, "softedge image"));
  let edges;
  if ("edge_map" in softedge) {
    edges = luma(image);
  } else {
    const entry = bundle.manifest.edge_detectors?.[softedge.detector];
    if (!entry) throw new JobFailure("capability_not_supported", `this model's bundle has no ${softedge.detector} edge detector`);
    edges = await detectEdges(await bundle.graph(entry.graph), image, CARD_EDGE_OPTIONS);
  }
  return { ...softedgeCondition(edges, spec.width, spec.height), strength: softedge.strength };
}

function required(bytes: Uint8Array | null, what: string): Uint8Array {
  if (!bytes) throw new JobFailure("input_fetch_failed", `the ${what} was not provided`, { retryable: true });
  return bytes;
}

/** The binary mask as the "inpaint_mask" intermediate shows it. */
export function inpaintMaskImage(inputs: InpaintInputs): RgbImage {
  return grayToRgb(inputs.mask);
}

function withoutAlpha(pixels: { width: number; height: number; channels: 3 | 4; data: Uint8Array }): RgbImage {
  if (pixels.channels === 3) return { width: pixels.width, height: pixels.height, data: pixels.data };
  const rgb = new Uint8Array(pixels.width * pixels.height * 3);
  for (let p = 0, q = 0; q < rgb.length; p += 4, q += 3) rgb.set(pixels.data.subarray(p, p + 3), q);
  return { width: pixels.width, height: pixels.height, data: rgb };
}
