import { describe, expect, it } from "vitest";
import { maskFromAlpha, maskFromImage, MASK_SET, requireMixedMask, requireSameSize } from "./inpaint-mask.js";
import { MaskError } from "./mask-error.js";

const codeOf = (f: () => void) => {
  try {
    f();
  } catch (e) {
    return e instanceof MaskError ? e.code : `not a MaskError: ${String(e)}`;
  }
  return "no error";
};

describe("the inpaint mask", () => {
  it("is set where the mask image's luma is at least 128 (the model card's L / 255 > 0.5)", () => {
    // Gray 127 and 128 straddle the threshold; pure red has luma 76, pure green 150.
    const image = { width: 4, height: 1, data: Uint8Array.of(127, 127, 127, 128, 128, 128, 255, 0, 0, 0, 255, 0) };
    expect(Array.from(maskFromImage(image).data)).toEqual([0, MASK_SET, 0, MASK_SET]);
  });

  it("from alpha is set where the image is transparent (alpha < 128), for RGBA and gray + alpha", () => {
    const rgba = { width: 3, height: 1, channels: 4 as const, data: Uint8Array.of(9, 9, 9, 0, 9, 9, 9, 127, 9, 9, 9, 128) };
    expect(Array.from(maskFromAlpha(rgba).data)).toEqual([MASK_SET, MASK_SET, 0]);
    const grayAlpha = { width: 2, height: 1, channels: 2 as const, data: Uint8Array.of(255, 255, 0, 3) };
    expect(Array.from(maskFromAlpha(grayAlpha).data)).toEqual([0, MASK_SET]);
  });

  it("from alpha is refused with mask_missing_alpha when the image has none", () => {
    expect(codeOf(() => maskFromAlpha({ width: 1, height: 1, channels: 3, data: Uint8Array.of(1, 2, 3) }))).toBe("mask_missing_alpha");
    expect(codeOf(() => maskFromAlpha({ width: 1, height: 1, channels: 1, data: Uint8Array.of(1) }))).toBe("mask_missing_alpha");
  });

  it("must have the image's size (mask_size_mismatch), and carries the code's advice as the hint", () => {
    expect(codeOf(() => requireSameSize({ width: 64, height: 48 }, { width: 64, height: 47 }))).toBe("mask_size_mismatch");
    expect(codeOf(() => requireSameSize({ width: 64, height: 48 }, { width: 64, height: 48 }))).toBe("no error");
    const e = new MaskError("mask_size_mismatch", "x");
    expect(e.hint).toMatch(/width and height/);
  });

  it("must leave something to generate (mask_empty) and something to keep (mask_full)", () => {
    const mask = (...v: number[]) => ({ width: v.length, height: 1, data: Uint8Array.from(v) });
    expect(codeOf(() => requireMixedMask(mask(0, 0, 0)))).toBe("mask_empty");
    expect(codeOf(() => requireMixedMask(mask(MASK_SET, MASK_SET)))).toBe("mask_full");
    expect(codeOf(() => requireMixedMask(mask(0, MASK_SET)))).toBe("no error");
  });
});
