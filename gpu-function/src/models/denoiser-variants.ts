import { DEFAULT_DENOISER_VARIANTS, type ControlNetName, type DenoiserVariant } from "@ecomid/shared/manifest";

export type { ControlNetName, DenoiserVariant };

/** What bundles made before issue 14 hold (a manifest without denoiser_variants): IdentityNet's graph and the plain one. */
export const LEGACY_DENOISER_VARIANTS: readonly DenoiserVariant[] = DEFAULT_DENOISER_VARIANTS;

/** The ControlNets whose residuals the job wants: those with a strength above 0. */
export function usedControlNets(c: { cnScale: number; inpaint?: { scale: number }; softedge?: { scale: number } }): Set<ControlNetName> {
  const used = new Set<ControlNetName>();
  if (c.cnScale > 0) used.add("identitynet");
  if (c.inpaint && c.inpaint.scale > 0) used.add("inpaint");
  if (c.softedge && c.softedge.scale > 0) used.add("softedge");
  return used;
}

/**
 * The variant with the fewest ControlNets that still has every one the job uses (each ControlNet costs a pass per
 * step); among equally small ones, the first the manifest lists. Undefined when none has them all: the pipeline
 * refuses such a job with capability_not_supported, naming what the bundle offers.
 */
export function findDenoiserVariant(variants: readonly DenoiserVariant[], used: ReadonlySet<ControlNetName>): DenoiserVariant | undefined {
  let best: DenoiserVariant | undefined;
  for (const v of variants) {
    if (![...used].every((name) => v.controlnets.includes(name))) continue;
    if (!best || v.controlnets.length < best.controlnets.length) best = v;
  }
  return best;
}

/** findDenoiserVariant for a job already checked against the bundle: none covering is a programming error. */
export function chooseDenoiserVariant(variants: readonly DenoiserVariant[], used: ReadonlySet<ControlNetName>): DenoiserVariant {
  const variant = findDenoiserVariant(variants, used);
  if (!variant)
    throw new Error(
      `no denoiser graph has the ControlNets [${[...used].join(", ")}]; the bundle offers ${variants.map((v) => `[${v.controlnets.join(", ")}]`).join(", ")}`,
    );
  return variant;
}
