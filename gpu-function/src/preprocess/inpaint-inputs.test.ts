import { describe, expect, it } from "vitest";
import { inpaintGoldens, photo, sha256 } from "../../test/support/inpaint-goldens.js";
import type { GrayImage } from "./gray-image.js";
import { prepareInpaint, type InpaintSettings } from "./inpaint-inputs.js";
import { maskFromImage, MASK_SET } from "./inpaint-mask.js";
import { MaskError } from "./mask-error.js";

const settings = (over: Partial<InpaintSettings> = {}): InpaintSettings => ({
  width: 8,
  height: 8,
  grow: 0,
  feather: 0,
  keepUnmasked: true,
  ...over,
});
const gray = (width: number, height: number, set: (x: number, y: number) => boolean): GrayImage => {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = set(x, y) ? MASK_SET : 0;
  return { width, height, data };
};
const rgb = (width: number, height: number) => ({ width, height, data: new Uint8Array(width * height * 3).fill(90) });
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof MaskError ? e.code : `not a MaskError: ${String(e)}`;
  }
  return "no error";
};

describe("prepareInpaint", () => {
  it("refuses a mask of another size before anything else", () => {
    expect(
      codeOf(() =>
        prepareInpaint(
          rgb(8, 8),
          gray(8, 7, () => true),
          settings(),
        ),
      ),
    ).toBe("mask_size_mismatch");
  });

  it("judges empty and full on the grown mask at the output size", () => {
    // One set pixel at (1, 1) of 8x8: halving to 4x4 with INTER_NEAREST samples the even pixels only, so it vanishes.
    const speck = gray(8, 8, (x, y) => x === 1 && y === 1);
    expect(codeOf(() => prepareInpaint(rgb(8, 8), speck, settings()))).toBe("no error");
    expect(codeOf(() => prepareInpaint(rgb(8, 8), speck, settings({ width: 4, height: 4 })))).toBe("mask_empty");
    // The left half grown by 4 px reaches the right edge: nothing is kept.
    const half = gray(8, 8, (x) => x < 4);
    expect(codeOf(() => prepareInpaint(rgb(8, 8), half, settings({ grow: 3 })))).toBe("no error");
    expect(codeOf(() => prepareInpaint(rgb(8, 8), half, settings({ grow: 4 })))).toBe("mask_full");
  });

  it("gives no blend weights when keep_unmasked is off", () => {
    const half = gray(8, 8, (x) => x < 4);
    expect(prepareInpaint(rgb(8, 8), half, settings({ keepUnmasked: false })).weights).toBeNull();
    expect(prepareInpaint(rgb(8, 8), half, settings()).weights).toHaveLength(64);
  });

  it("gives the reference's grown mask and condition for a real photo and its irregular mask", async () => {
    const coffee = await photo("coffee");
    const inputs = prepareInpaint(coffee, maskFromImage(coffee), settings({ width: 600, height: 400, grow: 6, feather: 8 }));
    expect(inputs.image).toBe(coffee);
    expect(sha256(inputs.mask.data)).toBe(inpaintGoldens.photo.grown6);
    expect(sha256(inputs.condition.data)).toBe(inpaintGoldens.photo.condition);
    expect(inputs.condition.dims).toEqual([1, 3, 400, 600]);
  });
});
