import { FaceAnalysis, type Detection } from "../src/models/face-analysis.js";
import { referenceDetectionSize, referenceF32, referenceKeypoints } from "./reference.js";

/**
 * The reference's own detection of astronaut.png. Detection is the one step of the pipeline whose rounding can flip
 * discrete choices (which 1/32-pixel cut a crop position falls in: face-analysis.test.ts bounds those); with the
 * reference's box and keypoints, every later step is float arithmetic that float32's bound covers.
 */
export class ReferenceDetection extends FaceAnalysis {
  override async detect(): Promise<Detection> {
    const [x1 = 0, y1 = 0, x2 = 0, y2 = 0, score = 0] = referenceF32("face_box").data;
    return { faces: [{ box: { x1, y1, x2, y2, score }, keypoints: referenceKeypoints() }], detectionSize: referenceDetectionSize };
  }
}
