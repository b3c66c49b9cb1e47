import { DEFAULT_EDGE_DETECTOR, type ControlNetName, type EdgeDetector, type InpaintInput, type SoftedgeInput } from "./job-input.js";
import type { ModelCapabilities } from "./models.js";

/** What a job's input asks of a model's bundle. */
export interface CapabilitiesUsed {
  controlnets: ControlNetName[];
  edge_detector: EdgeDetector | null;
}

/**
 * The ControlNets and edge detector a job needs: IdentityNet always, inpaint and softedge
 * whenever their input is given (whatever its strength: the field asks for the workflow),
 * and a detector when softedge gives a photo rather than an edge map.
 */
export function capabilitiesUsed(input: {
  inpaint?: Pick<InpaintInput, "image"> | undefined;
  softedge?: Pick<SoftedgeInput, "image" | "detector"> | undefined;
}): CapabilitiesUsed {
  const controlnets: ControlNetName[] = ["identitynet"];
  if (input.inpaint) controlnets.push("inpaint");
  if (input.softedge) controlnets.push("softedge");
  const edge_detector = input.softedge?.image !== undefined ? (input.softedge.detector ?? DEFAULT_EDGE_DETECTOR) : null;
  return { controlnets, edge_detector };
}

export interface MissingCapability {
  /** JSON Pointer to the field that asks for it. */
  pointer: string;
  message: string;
}

/** What the job asks for and the model's bundle lacks; empty when the model can run it. */
export function missingCapabilities(offered: ModelCapabilities, used: CapabilitiesUsed): MissingCapability[] {
  const missing: MissingCapability[] = [];
  for (const name of used.controlnets) {
    if (!offered.controlnets.includes(name))
      missing.push({ pointer: `/input/${name === "identitynet" ? "keypoints" : name}`, message: `the ${name} ControlNet` });
  }
  if (used.edge_detector && !offered.edge_detectors.includes(used.edge_detector))
    missing.push({ pointer: "/input/softedge/detector", message: `the ${used.edge_detector} edge detector` });
  return missing;
}
