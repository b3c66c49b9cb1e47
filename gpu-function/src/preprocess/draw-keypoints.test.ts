import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ModelBundleManifest } from "@ecomid/shared/manifest";
import { referenceF32, referenceU8, TINY_BUNDLE } from "../../test/reference.js";
import { drawKeypoints } from "./draw-keypoints.js";
import { hintForOutput } from "./hint.js";
import { keypointHint } from "./keypoint-hint.js";
import { keypointStyle } from "./keypoint-style.js";
import type { Point } from "./similarity-transform.js";

const manifest = JSON.parse(readFileSync(`${TINY_BUNDLE}/manifest.json`, "utf8")) as ModelBundleManifest;
const style = keypointStyle(manifest);
const keypoints = (): Point[] => {
  const k = referenceF32("face_keypoints").data;
  return [0, 1, 2, 3, 4].map((i) => [k[2 * i]!, k[2 * i + 1]!] as const);
};
const countDiffering = (a: Uint8Array, b: Uint8Array) => a.reduce((n, v, i) => n + (v !== b[i] ? 1 : 0), 0);

describe("the keypoint image (InstantID draw_kps)", () => {
  it("is pixel-exact with the reference on the source canvas", () => {
    const ref = referenceU8("keypoint_image");
    const image = drawKeypoints(512, 512, keypoints(), style);
    expect(countDiffering(image.data, ref.data)).toBe(0);
  });

  it("dims the sticks to 153 and draws the joints at full intensity", () => {
    const image = drawKeypoints(512, 512, keypoints(), style);
    const values = new Set(image.data);
    expect(values.has(153)).toBe(true);
    expect(values.has(255)).toBe(true);
    const [nx, ny] = keypoints()[2]!;
    const o = (Math.trunc(ny) * 512 + Math.trunc(nx)) * 3;
    expect(Array.from(image.data.subarray(o, o + 3))).toEqual([0, 0, 255]);
  });

  it("gives the reference's control image at the output size (centre crop + nearest-exact), pixel-exact", () => {
    const ref = referenceU8("control_image");
    const { hint } = keypointHint({ kind: "face", keypoints: keypoints(), width: 512, height: 512 }, 64, 64, style);
    expect(countDiffering(hint.data, ref.data)).toBe(0);
  });
});

describe("drawKeypoints against the reference's draw_kps on varied faces (test/goldens/faces)", () => {
  const cases = (
    JSON.parse(readFileSync("gpu-function/test/goldens/faces/cv2-goldens.json", "utf8")) as {
      keypoints: {
        width: number;
        height: number;
        keypoints: [number, number][];
        image: string;
        hintWidth: number;
        hintHeight: number;
        hint: string;
      }[];
    }
  ).keypoints;
  const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, "base64"));

  it.each(cases.map((c, i) => [i, c] as const))(
    "case %i: keypoint image and hint pixel-exact (tilts both ways, faces off the canvas)",
    (_, c) => {
      const image = drawKeypoints(c.width, c.height, c.keypoints, style);
      expect(countDiffering(image.data, bytes(c.image))).toBe(0);
      const hint = hintForOutput(image, c.hintWidth, c.hintHeight);
      expect(countDiffering(hint.data, bytes(c.hint))).toBe(0);
    },
  );
});

describe("keypoint sources and the hint", () => {
  it("draws explicit keypoints straight at the output size", () => {
    const points: Point[] = [
      [20, 20],
      [44, 20],
      [32, 32],
      [22, 46],
      [42, 46],
    ];
    const { keypointImage, hint } = keypointHint({ kind: "points", keypoints: points }, 64, 64, style);
    expect([keypointImage.width, keypointImage.height]).toEqual([64, 64]);
    expect(hint.data).toEqual(keypointImage.data);
    expect(Array.from(hint.data.subarray((32 * 64 + 32) * 3, (32 * 64 + 32) * 3 + 3))).toEqual([0, 0, 255]);
  });

  it("passes a pre-drawn image through, centre-cropped to the output aspect", () => {
    // 4 x 2 image whose columns are 0, 1, 2, 3: a square output keeps the middle columns 1 and 2.
    const data = new Uint8Array(4 * 2 * 3).map((_, i) => Math.floor(i / 3) % 4);
    const { hint } = keypointHint({ kind: "image", image: { width: 4, height: 2, data } }, 2, 2, style);
    expect(Array.from(hint.data)).toEqual([1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2]);
  });

  it("resizes with nearest-exact, not nearest (torch's legacy nearest would pick index 1, not 2)", () => {
    // 3 x 3 -> 2 x 2, same aspect so no crop: nearest-exact samples floor(0.5 * 1.5) = 0 and floor(1.5 * 1.5) = 2.
    const data = new Uint8Array(27).map((_, i) => Math.floor(i / 9) * 10 + (Math.floor(i / 3) % 3));
    const out = hintForOutput({ width: 3, height: 3, data }, 2, 2);
    expect(Array.from(out.data.filter((_, i) => i % 3 === 0))).toEqual([0, 2, 20, 22]);
  });
});
