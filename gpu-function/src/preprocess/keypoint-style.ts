import type { ModelBundleManifest } from "@ecomid/shared/manifest";
import type { KeypointStyle } from "./draw-keypoints.js";

/** The bundle's drawing constants (manifest preprocessing.keypoints) as drawKeypoints takes them. */
export function keypointStyle(manifest: ModelBundleManifest): KeypointStyle {
  const k = manifest.preprocessing.keypoints;
  return { colors: k.colors, circleRadius: k.circle_radius, stickWidth: k.stick_width, stickDim: k.stick_dim };
}
