import type { RgbImage } from "../runtime/image.js";
import { drawKeypoints, type KeypointStyle } from "./draw-keypoints.js";
import { hintForOutput } from "./hint.js";
import type { Point } from "./similarity-transform.js";

/**
 * Where IdentityNet's hint (InstantID's draw_kps image) comes from, once any pose image has been through detection:
 * - `face`: keypoints of a detected face (the reference's, or a pose image's largest), drawn on a canvas
 *   the size of the image they were found in, then brought to the output size;
 * - `points`: five keypoints already in output pixels, drawn straight at the output size;
 * - `image`: a pre-drawn keypoint image, or a pose image without a face, used as it is.
 */
export type KeypointSource =
  | { kind: "face"; keypoints: readonly Point[]; width: number; height: number }
  | { kind: "points"; keypoints: readonly Point[] }
  | { kind: "image"; image: RgbImage };

export interface KeypointHint {
  /** The keypoint image before resizing (what a job asking for the "keypoint_image" intermediate gets). */
  keypointImage: RgbImage;
  /** The control image at the output size. */
  hint: RgbImage;
}

export function keypointHint(source: KeypointSource, width: number, height: number, style: KeypointStyle): KeypointHint {
  const keypointImage =
    source.kind === "face"
      ? drawKeypoints(source.width, source.height, source.keypoints, style)
      : source.kind === "points"
        ? drawKeypoints(width, height, source.keypoints, style)
        : source.image;
  return { keypointImage, hint: hintForOutput(keypointImage, width, height) };
}
