import type { ModelBundleManifest } from "@ecomid/shared/manifest";
import type { RgbImage } from "../runtime/image.js";
import { similarityTransform, type Point } from "./similarity-transform.js";
import type { AffineMatrix } from "./affine.js";
import { warpAffine } from "./warp-affine.js";

export interface FaceCrop {
  image: RgbImage;
  /** Source pixels -> crop pixels. */
  matrix: AffineMatrix;
}

/** The ArcFace crop: keypoints onto the 112 template, border black (insightface's norm_crop, Umeyama). */
export function arcfaceCrop(image: RgbImage, keypoints: readonly Point[], manifest: ModelBundleManifest): FaceCrop {
  const { size, template } = manifest.preprocessing.arcface;
  const matrix = similarityTransform(keypoints, template);
  return { image: warpAffine(image, matrix, size, size, [0, 0, 0]), matrix };
}

/** The FFHQ crop for the EVA-CLIP branch: keypoints onto the 512 template, facexlib's grey border. */
export function ffhqCrop(image: RgbImage, keypoints: readonly Point[], manifest: ModelBundleManifest): FaceCrop {
  const {
    size,
    template,
    border_bgr: [b, g, r],
  } = manifest.preprocessing.ffhq;
  const matrix = similarityTransform(keypoints, template);
  return { image: warpAffine(image, matrix, size, size, [r, g, b]), matrix };
}

/** ArcFace's input [1, 3, size, size]: RGB planes, (x - mean) / std. */
export function arcfaceBlob(crop: RgbImage, manifest: ModelBundleManifest): Float32Array {
  const { input_mean: mean, input_std: std } = manifest.preprocessing.arcface;
  const plane = crop.width * crop.height;
  const blob = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) blob[c * plane + i] = (crop.data[i * 3 + c]! - mean) / std;
  }
  return blob;
}
