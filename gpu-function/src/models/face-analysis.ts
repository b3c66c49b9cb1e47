import { ERROR_ADVICE } from "@ecomid/shared/api";
import type { ModelBundleManifest } from "@ecomid/shared/manifest";
import { JobFailure } from "../pipelines/job-failure.js";
import type { ModelBundle } from "../runtime/bundle.js";
import type { RgbImage } from "../runtime/image.js";
import type { Graph } from "../runtime/onnx.js";
import { float32 } from "../runtime/tensor.js";
import { arcfaceBlob, arcfaceCrop, ffhqCrop, type FaceCrop } from "../preprocess/face-crops.js";
import type { KeypointSource } from "../preprocess/keypoint-hint.js";
import { letterbox } from "../preprocess/letterbox.js";
import { bySize, decodeScrfd, type Face } from "../preprocess/scrfd-decode.js";

/** No usable face in an image: none detected, or fewer than face_index asks for; the hint is the code's advice. */
export class FaceNotDetectedError extends JobFailure {
  override readonly name = "FaceNotDetectedError";
  constructor(code: "face_not_detected" | "face_index_out_of_range", message: string) {
    super(code, message, { hint: ERROR_ADVICE[code] });
  }
}

export interface Detection {
  /** Every face found, largest box first (the order face_index counts in). */
  faces: Face[];
  /** The SCRFD input size that found them; 0 when none did. */
  detectionSize: number;
}

export interface FaceAnalysisResult extends Detection {
  /** Index into `faces` of the face every crop and the embedding derive from. */
  chosen: number;
  face: Face;
  arcface: FaceCrop;
  ffhq: FaceCrop;
  /** The raw (not L2-normalised) ArcFace embedding [1, 512]. */
  embedding: Float32Array;
}

/**
 * SCRFD + ArcFace on a bundle: detect once (retrying at smaller sizes as the reference does),
 * choose one face, derive both crops and the embedding from that one detection.
 *
 * @example
 * const faces = await FaceAnalysis.fromBundle(bundle);
 * const { face, embedding, ffhq } = await faces.analyse(image);
 */
export class FaceAnalysis {
  constructor(
    private readonly scrfd: Graph,
    private readonly arcface: Graph,
    private readonly manifest: ModelBundleManifest,
  ) {}

  static async fromBundle(bundle: ModelBundle): Promise<FaceAnalysis> {
    return new FaceAnalysis(await bundle.graph("scrfd"), await bundle.graph("arcface"), bundle.manifest);
  }

  /** Faces at the first detection size (640, 576, ... 192) that finds any; none is not an error here. */
  async detect(image: RgbImage): Promise<Detection> {
    const p = this.manifest.preprocessing.scrfd;
    const input = this.scrfd.inputNames[0]!;
    for (const size of p.det_sizes) {
      const { blob, scale } = letterbox(image, size, p.input_mean, p.input_std);
      const out = await this.scrfd.run({ [input]: float32(blob, [1, 3, size, size]) });
      // The published graph's outputs are positional (scores, boxes, keypoints per stride); names vary between exports.
      const ordered = this.scrfd.outputNames.map((n) => out[n]!.data);
      const k = p.strides.length;
      const faces = decodeScrfd(
        { scores: ordered.slice(0, k), boxes: ordered.slice(k, 2 * k), keypoints: ordered.slice(2 * k, 3 * k) },
        {
          size,
          scale,
          strides: p.strides,
          anchorsPerCell: p.anchors_per_cell,
          scoreThreshold: p.score_threshold,
          nmsThreshold: p.nms_threshold,
        },
      );
      if (faces.length) return { faces: bySize(faces), detectionSize: size };
    }
    return { faces: [], detectionSize: 0 };
  }

  /** Detects, takes face `faceIndex` (default 0: the largest), crops and embeds it. */
  async analyse(image: RgbImage, options: { faceIndex?: number } = {}): Promise<FaceAnalysisResult> {
    const detection = await this.detect(image);
    if (!detection.faces.length)
      throw new FaceNotDetectedError("face_not_detected", `no face was detected in the ${image.width}x${image.height} reference image`);
    const chosen = options.faceIndex ?? 0;
    const face = detection.faces[chosen];
    if (!face) {
      throw new FaceNotDetectedError(
        "face_index_out_of_range",
        `face_index ${chosen} was asked for but only ${detection.faces.length} face(s) were detected`,
      );
    }
    const arcface = arcfaceCrop(image, face.keypoints, this.manifest);
    const ffhq = ffhqCrop(image, face.keypoints, this.manifest);
    return { ...detection, chosen, face, arcface, ffhq, embedding: await this.embed(arcface.image) };
  }

  /**
   * A pose image as IdentityNet's keypoint source: its largest face's keypoints drawn on its own canvas;
   * without a face the image itself becomes the hint (so a pre-drawn keypoint image passes through).
   * Not an error, as in the reference; `faceFound` lets the caller warn.
   */
  async poseSource(pose: RgbImage): Promise<{ source: KeypointSource; faceFound: boolean }> {
    const { faces } = await this.detect(pose);
    const largest = faces[0];
    return largest
      ? { source: { kind: "face", keypoints: largest.keypoints, width: pose.width, height: pose.height }, faceFound: true }
      : { source: { kind: "image", image: pose }, faceFound: false };
  }

  /** The raw ArcFace embedding of an aligned crop. */
  async embed(crop: RgbImage): Promise<Float32Array> {
    const size = this.manifest.preprocessing.arcface.size;
    if (crop.width !== size || crop.height !== size)
      throw new RangeError(`ArcFace needs a ${size}x${size} crop, got ${crop.width}x${crop.height}`);
    const out = await this.arcface.run({ [this.arcface.inputNames[0]!]: float32(arcfaceBlob(crop, this.manifest), [1, 3, size, size]) });
    return out[this.arcface.outputNames[0]!]!.data;
  }
}
