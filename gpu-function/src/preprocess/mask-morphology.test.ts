import { describe, expect, it } from "vitest";
import { differing, goldenBytes, inpaintGoldens, photo, sha256, smallGray } from "../../test/support/inpaint-goldens.js";
import type { GrayImage } from "./gray-image.js";
import { maskFromImage, MASK_SET } from "./inpaint-mask.js";
import { featherBytes, featherWeights, growMask } from "./mask-morphology.js";

const S = MASK_SET;
/** A size x size mask with one set pixel in the middle. */
function dot(size: number): GrayImage {
  const data = new Uint8Array(size * size);
  data[(size * size - 1) / 2] = S;
  return { width: size, height: size, data };
}
const rows = (m: GrayImage) => Array.from({ length: m.height }, (_, y) => Array.from(m.data.subarray(y * m.width, (y + 1) * m.width)));

describe("grow (cv2.dilate with an elliptic kernel)", () => {
  it("spreads one pixel into the kernel's shape: a cross for 1 px, a rounded 5x5 square for 2 px", () => {
    // cv2.getStructuringElement(MORPH_ELLIPSE, (3, 3)) and (5, 5): the disc of radius g on the pixel grid.
    expect(rows(growMask(dot(3), 1))).toEqual([
      [0, S, 0],
      [S, S, S],
      [0, S, 0],
    ]);
    expect(rows(growMask(dot(5), 2))).toEqual([
      [0, 0, S, 0, 0],
      [S, S, S, S, S],
      [S, S, S, S, S],
      [S, S, S, S, S],
      [0, 0, S, 0, 0],
    ]);
  });

  it("by 0 px is the mask itself", () => {
    const m = dot(3);
    expect(growMask(m, 0)).toBe(m);
  });

  it("equals cv2.dilate on an irregular mask, 1, 2 and 5 px", () => {
    const mask = smallGray(inpaintGoldens.small.mask);
    for (const g of inpaintGoldens.small.grow) expect(differing(growMask(mask, g.px).data, goldenBytes(g.mask)), `${g.px} px`).toBe(0);
  });
});

describe("feather (cv2.erode with a square kernel, then cv2.GaussianBlur)", () => {
  it("is 0 on every unmasked pixel and 1 deep inside the mask", () => {
    // A 21x21 mask with a centred 15x15 set square, feather 2: erosion leaves the central 11x11, the 5x5 blur
    // spreads it back to at most the 15x15 square. Pixels 4 and more inside the square's edge see only eroded
    // pixels, and the blur of a constant is the constant (OpenCV's fixed-point kernel sums to one exactly).
    const size = 21;
    const data = new Uint8Array(size * size);
    for (let y = 3; y < 18; y++) data.fill(S, y * size + 3, y * size + 18);
    const w = featherWeights({ width: size, height: size, data }, 2);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const i = y * size + x;
        if (data[i] === 0) expect(w[i], `${x},${y}`).toBe(0);
        if (Math.min(x, y, size - 1 - x, size - 1 - y) >= 3 + 4) expect(w[i], `${x},${y}`).toBe(1);
      }
    expect(w[10 * size + 3], "on the square's edge the seam is partial").toBeGreaterThan(0);
  });

  it("of 0 px is the mask itself, weights 0 and 1", () => {
    const m = dot(3);
    expect(Array.from(featherWeights(m, 0))).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 0]);
  });

  it("equals cv2's erode + GaussianBlur on an irregular mask, 0, 1, 3 and 8 px", () => {
    const mask = smallGray(inpaintGoldens.small.mask);
    for (const f of inpaintGoldens.small.feather)
      expect(differing(featherBytes(mask, f.px).data, goldenBytes(f.weights)), `${f.px} px`).toBe(0);
  });

  it("equals cv2 on a real photo's shape: coffee.png's bright parts, grown 6 px, feathered 8 px", async () => {
    const mask = maskFromImage(await photo("coffee"));
    expect(sha256(mask.data)).toBe(inpaintGoldens.photo.mask);
    const grown = growMask(mask, 6);
    expect(sha256(grown.data)).toBe(inpaintGoldens.photo.grown6);
    expect(sha256(featherBytes(grown, 8).data)).toBe(inpaintGoldens.photo.feather8);
  });

  it("keeps every unmasked pixel of the real photo's shape at weight 0", async () => {
    const grown = growMask(maskFromImage(await photo("coffee")), 6);
    const w = featherWeights(grown, 8);
    let unmasked = 0;
    grown.data.forEach((v, i) => {
      if (v === 0) {
        unmasked++;
        if (w[i] !== 0) expect.fail(`pixel ${i} is unmasked but has weight ${w[i]}`);
      }
    });
    expect(unmasked).toBeGreaterThan(0);
  });
});
