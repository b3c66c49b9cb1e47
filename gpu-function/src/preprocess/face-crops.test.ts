import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import type { ModelBundleManifest } from "@ecomid/shared/manifest";
import { maxAbsDiff, referenceF32, referenceKeypoints, referenceU8, TINY_BUNDLE } from "../../test/reference.js";
import { decodeImage, type RgbImage } from "../runtime/image.js";
import { arcfaceCrop, ffhqCrop } from "./face-crops.js";
import { similarityTransform, type Point } from "./similarity-transform.js";

const manifest = JSON.parse(readFileSync(`${TINY_BUNDLE}/manifest.json`, "utf8")) as ModelBundleManifest;

describe("face crops from the reference keypoints", () => {
  let astronaut: RgbImage;
  beforeAll(async () => {
    astronaut = await decodeImage(readFileSync("test/fixtures/images/astronaut.png"));
  });

  it("estimates both similarity matrices as the reference's Umeyama (float32 storage, so 1e-5 relative)", () => {
    for (const [name, template] of [
      ["arcface_matrix", manifest.preprocessing.arcface.template],
      ["ffhq_matrix", manifest.preprocessing.ffhq.template],
    ] as const) {
      const m = similarityTransform(referenceKeypoints(), template);
      const ref = referenceF32(name).data;
      // The reference computes in float64 and stores float32: the difference is the float32 rounding.
      for (let i = 0; i < 6; i++)
        expect(Math.abs(m[i]! - ref[i]!), `${name}[${i}]`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(ref[i]!)));
    }
  });

  it("warps the ArcFace crop pixel for pixel", () => {
    const crop = arcfaceCrop(astronaut, referenceKeypoints(), manifest);
    expect([crop.image.width, crop.image.height]).toEqual([112, 112]);
    expect(maxAbsDiff(crop.image.data, referenceU8("arcface_crop").data)).toBe(0);
  });

  it("warps the FFHQ crop pixel for pixel, grey border included", () => {
    const crop = ffhqCrop(astronaut, referenceKeypoints(), manifest);
    expect([crop.image.width, crop.image.height]).toEqual([512, 512]);
    const ref = referenceU8("ffhq_crop").data;
    expect(maxAbsDiff(crop.image.data, ref)).toBe(0);
    // The border colour is RGB (132, 133, 135): the corner lies outside the source for this face.
    expect(Array.from(crop.image.data.subarray(0, 3))).toEqual(Array.from(ref.subarray(0, 3)));
  });
});

describe("similarityTransform", () => {
  it("recovers an exact rotation, scale and translation", () => {
    const angle = 0.3,
      scale = 1.7,
      tx = 12,
      ty = -4;
    const src: Point[] = [
      [1, 2],
      [5, 3],
      [2, 8],
      [7, 7],
      [4, 4],
    ];
    const dst = src.map(
      ([x, y]) =>
        [scale * (Math.cos(angle) * x - Math.sin(angle) * y) + tx, scale * (Math.sin(angle) * x + Math.cos(angle) * y) + ty] as const,
    );
    const m = similarityTransform(src, dst);
    const expected = [scale * Math.cos(angle), -scale * Math.sin(angle), tx, scale * Math.sin(angle), scale * Math.cos(angle), ty];
    m.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
  });

  it("never reflects: mirrored points give a rotation (determinant > 0)", () => {
    const src: Point[] = [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
      [0.5, 0.3],
    ];
    const mirrored = src.map(([x, y]) => [-x, y] as const);
    const [a, b, , d, e] = similarityTransform(src, mirrored);
    expect(a * e - b * d).toBeGreaterThan(0);
  });
});
