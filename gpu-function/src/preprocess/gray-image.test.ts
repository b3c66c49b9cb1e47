import { describe, expect, it } from "vitest";
import { differing, goldenBytes, inpaintGoldens, smallImage } from "../../test/support/inpaint-goldens.js";
import { grayToRgb, luma } from "./gray-image.js";

const pixel = (r: number, g: number, b: number) => luma({ width: 1, height: 1, data: Uint8Array.of(r, g, b) }).data[0];

describe("luma (Pillow's convert('L'))", () => {
  it("weighs the channels 19595 : 38470 : 7471 of 65536 and rounds half up", () => {
    expect(pixel(255, 0, 0)).toBe(76); // (255 * 19595 + 32768) >> 16 = 5029493 >> 16 = 76 (76.7 truncated after the half added)
    expect(pixel(0, 255, 0)).toBe(150); // (9809850 + 32768) >> 16 = 150
    expect(pixel(0, 0, 255)).toBe(29); // (1905105 + 32768) >> 16 = 29
    expect(pixel(1, 0, 0)).toBe(0); // 0.299 rounds down
    expect(pixel(2, 0, 0)).toBe(1); // 0.598 rounds up: the 0x8000 is a rounding half
  });

  it("keeps every gray level (the weights sum to 65536)", () => {
    for (let v = 0; v < 256; v++) expect(pixel(v, v, v)).toBe(v);
  });

  it("equals Pillow's convert('L') on random colours", () => {
    expect(differing(luma(smallImage(inpaintGoldens.small.rgb)).data, goldenBytes(inpaintGoldens.small.luma))).toBe(0);
  });
});

describe("grayToRgb", () => {
  it("puts each level on all three channels, in row order", () => {
    expect(Array.from(grayToRgb({ width: 2, height: 1, data: Uint8Array.of(7, 200) }).data)).toEqual([7, 7, 7, 200, 200, 200]);
  });
});
