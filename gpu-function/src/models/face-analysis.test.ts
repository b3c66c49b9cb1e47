import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  maxAbs,
  maxAbsDiff,
  openTinyBundle,
  referenceBound,
  referenceDetectionSize,
  referenceF32,
  referenceKeypoints,
  referenceU8,
  scaledError,
} from "../../test/reference.js";
import { drawKeypoints } from "../preprocess/draw-keypoints.js";
import { keypointHint } from "../preprocess/keypoint-hint.js";
import { keypointStyle } from "../preprocess/keypoint-style.js";
import { letterbox } from "../preprocess/letterbox.js";
import { invertAffine, type AffineMatrix } from "../preprocess/affine.js";
import type { ModelBundle } from "../runtime/bundle.js";
import { decodeImage, type RgbImage } from "../runtime/image.js";
import { float32 } from "../runtime/tensor.js";
import { FaceAnalysis, FaceNotDetectedError, type FaceAnalysisResult } from "./face-analysis.js";

const image = async (name: string): Promise<RgbImage> => decodeImage(readFileSync(`test/fixtures/images/${name}`));

/**
 * How far a detection may move in source pixels when SCRFD's outputs move within float32's bound: a box edge or
 * keypoint is (anchor +- output * stride) / det_scale, so each stride's output error, scaled.
 */
async function detectionPixelBound(bundle: ModelBundle, picture: RgbImage, size: number): Promise<number> {
  const p = bundle.manifest.preprocessing.scrfd;
  const { blob, scale } = letterbox(picture, size, p.input_mean, p.input_std);
  const graph = await bundle.graph("scrfd");
  const out = await graph.run({ [graph.inputNames[0]!]: float32(blob, [1, 3, size, size]) });
  const ordered = graph.outputNames.map((n) => out[n]!.data);
  const k = p.strides.length;
  const relative = referenceBound({ scrfd: 1 });
  return Math.max(
    ...p.strides.map((stride, i) => (relative * Math.max(1, maxAbs(ordered[k + i]!), maxAbs(ordered[2 * k + i]!)) * stride) / scale),
  );
}

/** Largest distance between where two crop matrices sample the source, over the crop (an affine map: its corners). */
function samplingShift(a: AffineMatrix, b: AffineMatrix, size: number): number {
  const [ia, ib] = [invertAffine(a), invertAffine(b)];
  let shift = 0;
  for (const [x, y] of [
    [0, 0],
    [size, 0],
    [0, size],
    [size, size],
  ]) {
    for (const row of [0, 3])
      shift = Math.max(
        shift,
        Math.abs(ia[row]! * x! + ia[row + 1]! * y! + ia[row + 2]! - (ib[row]! * x! + ib[row + 1]! * y! + ib[row + 2]!)),
      );
  }
  return shift;
}

describe("FaceAnalysis on the tiny bundle (parity with the PyTorch reference, within float32's bounds)", () => {
  let bundle: ModelBundle;
  let faces: FaceAnalysis;
  let astronaut: RgbImage;
  let result: FaceAnalysisResult;
  let pixelBound: number;

  beforeAll(async () => {
    bundle = await openTinyBundle();
    faces = await FaceAnalysis.fromBundle(bundle);
    astronaut = await image("astronaut.png");
    result = await faces.analyse(astronaut);
    pixelBound = await detectionPixelBound(bundle, astronaut, result.detectionSize);
  });
  afterAll(() => bundle.release());

  it("finds the one face at the reference's detection size", () => {
    expect(result.faces).toHaveLength(1);
    expect(result.chosen).toBe(0);
    expect(result.detectionSize).toBe(referenceDetectionSize);
  });

  it("gives the reference's box, score and keypoints within what SCRFD's float32 bound moves them", () => {
    const { x1, y1, x2, y2, score } = result.face.box;
    const ref = referenceF32("face_box").data;
    expect(pixelBound).toBeLessThan(0.05); // the bound itself is small enough to mean something
    expect(maxAbsDiff([x1, y1, x2, y2], ref.subarray(0, 4))).toBeLessThanOrEqual(pixelBound);
    expect(Math.abs(score - ref[4]!)).toBeLessThanOrEqual(referenceBound({ scrfd: 1 })); // a sigmoid: scale 1
    expect(maxAbsDiff(result.face.keypoints.flat(), referenceF32("face_keypoints").data)).toBeLessThanOrEqual(pixelBound);
  });

  it("crops from its own detection as the reference, up to the 1/32-pixel steps its keypoint difference crosses", () => {
    // cv2's warp (ours too) samples the source at positions cut to 1/32 pixel. Moving them by d crosses a cut
    // for a share 32 * d of positions on each axis, doubled for the unevenness of a finite grid; a crossed
    // pixel moves by a bilinear weight of 1/32 of a neighbour's difference: at most 255 / 32, so 8 levels.
    for (const [name, crop, size] of [
      ["arcface", result.arcface, 112],
      ["ffhq", result.ffhq, 512],
    ] as const) {
      const ref = referenceU8(`${name}_crop`).data;
      const shift = samplingShift(crop.matrix, Array.from(referenceF32(`${name}_matrix`).data) as unknown as AffineMatrix, size);
      let differing = 0;
      for (let i = 0; i < ref.length; i++) if (crop.image.data[i] !== ref[i]) differing++;
      expect(differing / ref.length, name).toBeLessThanOrEqual(2 * 2 * 32 * shift + 1 / (size * size));
      expect(maxAbsDiff(crop.image.data, ref), name).toBeLessThanOrEqual(8);
    }
  });

  it("embeds the reference's ArcFace crop within ArcFace's float32 bound", async () => {
    const crop = { width: 112, height: 112, data: referenceU8("arcface_crop").data };
    const embedding = await faces.embed(crop);
    expect(embedding).toHaveLength(512);
    expect(scaledError(embedding, referenceF32("arcface_embedding").data)).toBeLessThanOrEqual(referenceBound({ arcface: 1 }));
    expect(result.embedding).toHaveLength(512); // its own crop's: that crop is checked above
  });

  it("draws the reference's keypoint image from the reference's keypoints, pixel-exact", () => {
    const drawn = drawKeypoints(512, 512, referenceKeypoints(), keypointStyle(bundle.manifest));
    expect(maxAbsDiff(drawn.data, referenceU8("keypoint_image").data)).toBe(0);
  });

  it.each(["coffee.png", "chelsea.png"])("refuses %s with face_not_detected and a hint, after trying every size", async (name) => {
    const picture = await image(name);
    await expect(faces.detect(picture)).resolves.toEqual({ faces: [], detectionSize: 0 });
    const error = await faces.analyse(picture).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FaceNotDetectedError);
    expect((error as FaceNotDetectedError).code).toBe("face_not_detected");
    expect((error as FaceNotDetectedError).hint).toMatch(/pad the image/);
  });

  it("uses a pose image's largest face as the keypoint source, and a faceless pose image as the hint itself", async () => {
    const style = keypointStyle(bundle.manifest);
    const withFace = await faces.poseSource(astronaut);
    expect(withFace.faceFound).toBe(true);
    if (withFace.source.kind !== "face") throw new Error("expected a face source");
    expect(maxAbsDiff(withFace.source.keypoints.flat(), referenceF32("face_keypoints").data)).toBeLessThanOrEqual(pixelBound);
    const { hint } = keypointHint({ ...withFace.source, keypoints: referenceKeypoints() }, 64, 64, style);
    expect(maxAbsDiff(hint.data, referenceU8("control_image").data)).toBe(0);

    const coffee = await image("coffee.png");
    const faceless = await faces.poseSource(coffee);
    expect(faceless.faceFound).toBe(false);
    expect(keypointHint(faceless.source, 64, 64, style).keypointImage).toBe(coffee);
  });

  it("refuses a face_index beyond the faces found", async () => {
    await expect(faces.analyse(astronaut, { faceIndex: 1 })).rejects.toMatchObject({
      code: "face_index_out_of_range",
      message: /only 1 face/,
      hint: /face_index/,
    });
  });
});
