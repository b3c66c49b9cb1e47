/** Face preprocessing as pure functions of RGB images and typed arrays; no model, no I/O. */
export { letterbox, type Letterbox } from "./letterbox.js";
export { decodeScrfd, bySize, type Face, type ScrfdOutputs, type ScrfdDecodeOptions } from "./scrfd-decode.js";
export { nms, type Box } from "./nms.js";
export { similarityTransform, type Point } from "./similarity-transform.js";
export { warpAffine } from "./warp-affine.js";
export { invertAffine, type AffineMatrix } from "./affine.js";
export { resizeLinear } from "./resize-linear.js";
export { arcfaceCrop, ffhqCrop, arcfaceBlob, type FaceCrop } from "./face-crops.js";
export { drawKeypoints, type KeypointStyle } from "./draw-keypoints.js";
export { keypointStyle } from "./keypoint-style.js";
export { hintForOutput } from "./hint.js";
export { keypointHint, type KeypointSource, type KeypointHint } from "./keypoint-hint.js";
