import { describe, expect, it } from "vitest";
import {
  differing,
  goldenBytes,
  inpaintGoldens,
  maxLevelDifference,
  photo,
  sha256,
  smallGray,
  smallImage,
} from "../../test/support/inpaint-goldens.js";
import { maskFromImage, MASK_SET } from "./inpaint-mask.js";
import { growMask } from "./mask-morphology.js";
import { cv } from "./opencv.js";
import { imageInterpolation, resizeImageTo, resizeMaskTo, resizeRgb } from "./output-resize.js";

/**
 * cv2's INTER_CUBIC on bytes is not one function: its horizontal pass is integer arithmetic everywhere, but the
 * vertical pass rounds the fixed-point sum with integers in the scalar code (FixedPtCast) and through float32 in the
 * vectorised code (VResizeCubicVec_32s8u, opencv/opencv modules/imgproc/src/resize.cpp), which cv2 picks by CPU.
 * The float32 sum is off by far less than a level (4 roundings of 2^-24 relative on values below 2^8: ~1e-4), so
 * the two round to neighbouring levels at most, and only near a half. Measured: cv2 4.13 on this x86-64 machine
 * differs from itself with cv2.setUseOptimized(False) on 26127 of 860160 bytes of chelsea.png enlarged to 640x448.
 */
const CUBIC_LEVELS = 1;

describe("bringing the inpaint image and mask to the output size", () => {
  it("shrinks with INTER_AREA and enlarges with INTER_CUBIC, by pixel count when the sides disagree", () => {
    expect(imageInterpolation({ width: 600, height: 400 }, { width: 576, height: 384 })).toBe(cv.INTER_AREA);
    expect(imageInterpolation({ width: 300, height: 200 }, { width: 320, height: 192 })).toBe(cv.INTER_CUBIC); // 61440 > 60000
    expect(imageInterpolation({ width: 451, height: 300 }, { width: 448, height: 320 })).toBe(cv.INTER_CUBIC); // 143360 > 135300
    expect(imageInterpolation({ width: 64, height: 64 }, { width: 128, height: 32 })).toBe(cv.INTER_CUBIC); // same count
  });

  it("returns the same image and mask when the size is already the output's", () => {
    const image = smallImage(inpaintGoldens.small.rgb);
    expect(resizeImageTo(image, image.width, image.height)).toBe(image);
    const mask = smallGray(inpaintGoldens.small.mask);
    expect(resizeMaskTo(mask, mask.width, mask.height)).toBe(mask);
  });

  it("equals cv2.resize (INTER_AREA, and INTER_NEAREST for the mask) on random images, and INTER_CUBIC within a level", () => {
    const { small } = inpaintGoldens;
    const image = smallImage(small.rgb);
    const mask = smallGray(small.mask);
    for (const r of small.resize) {
      const size = `${r.outWidth}x${r.outHeight}`;
      const matches = (interpolation: number, golden: string) =>
        differing(resizeRgb(image, r.outWidth, r.outHeight, interpolation).data, goldenBytes(golden));
      expect(matches(cv.INTER_AREA, r.area), `area ${size}`).toBe(0);
      const cubic = resizeRgb(image, r.outWidth, r.outHeight, cv.INTER_CUBIC).data;
      expect(maxLevelDifference(cubic, goldenBytes(r.cubic)), `cubic ${size}`).toBeLessThanOrEqual(CUBIC_LEVELS);
      const sized = resizeMaskTo(mask, r.outWidth, r.outHeight);
      expect(differing(sized.data, goldenBytes(r.nearest)), `nearest ${size}`).toBe(0);
      expect(
        sized.data.every((v) => v === 0 || v === MASK_SET),
        "a resized mask stays binary",
      ).toBe(true);
    }
  });

  it("equals cv2.resize on real photos: astronaut shrunk (area), a grown mask (nearest); chelsea enlarged (cubic) within a level", async () => {
    expect(sha256(resizeImageTo(await photo("astronaut"), 320, 320).data)).toBe(inpaintGoldens.photo.astronautArea320);
    const c = inpaintGoldens.photo.chelseaCrop;
    const chelsea = await photo("chelsea");
    const crop = new Uint8Array(c.width * c.height * 3);
    for (let y = 0; y < c.height; y++)
      crop.set(
        chelsea.data.subarray(((c.y + y) * chelsea.width + c.x) * 3, ((c.y + y) * chelsea.width + c.x + c.width) * 3),
        y * c.width * 3,
      );
    const enlarged = resizeImageTo({ width: c.width, height: c.height, data: crop }, c.outWidth, c.outHeight).data;
    expect(maxLevelDifference(enlarged, goldenBytes(c.cubic))).toBeLessThanOrEqual(CUBIC_LEVELS);
    const grown = growMask(maskFromImage(await photo("coffee")), 6);
    expect(sha256(resizeMaskTo(grown, 576, 384).data)).toBe(inpaintGoldens.photo.maskNearest576x384);
  });
});
