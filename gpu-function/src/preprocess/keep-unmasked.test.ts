import { describe, expect, it } from "vitest";
import type { RgbImage } from "../runtime/image.js";
import { differing, goldenBytes, inpaintGoldens, photo, sha256, smallGray, smallImage } from "../../test/support/inpaint-goldens.js";
import { maskFromImage } from "./inpaint-mask.js";
import { keepUnmasked } from "./keep-unmasked.js";
import { featherBytes, featherWeights, growMask } from "./mask-morphology.js";

const px = (...rgb: number[]): RgbImage => ({ width: rgb.length / 3, height: 1, data: Uint8Array.from(rgb) });

describe("keep_unmasked (the model card's add_fg)", () => {
  it("takes the original where w = 0, the generated where w = 1, and truncates blends", () => {
    const generated = px(10, 20, 30, 10, 20, 30, 100, 0, 255);
    const original = px(200, 201, 202, 200, 201, 202, 201, 1, 0);
    const out = keepUnmasked(generated, original, Float32Array.of(0, 1, 0.5));
    // 100 * 0.5 + 201 * 0.5 = 150.5 -> 150; 0 * 0.5 + 1 * 0.5 = 0.5 -> 0; 255 * 0.5 = 127.5 -> 127 (astype truncates).
    expect(Array.from(out.data)).toEqual([200, 201, 202, 10, 20, 30, 150, 0, 127]);
  });

  it("equals numpy's float32 add_fg bytes on random images, feathers 0 to 8 px", () => {
    const { small } = inpaintGoldens;
    const mask = smallGray(small.mask);
    for (const f of small.feather) {
      const out = keepUnmasked(smallImage(small.generated), smallImage(small.rgb), featherWeights(mask, f.px));
      expect(differing(out.data, goldenBytes(f.kept)), `${f.px} px`).toBe(0);
    }
  });

  it("leaves every unmasked pixel of a real photo equal to the input's, and equals numpy on it", async () => {
    // coffee.png kept, its own negative as the generated image, an irregular mask (its bright parts grown 6 px).
    const original = await photo("coffee");
    const generated = { ...original, data: original.data.map((v) => 255 - v) };
    const mask = growMask(maskFromImage(original), 6);
    const out = keepUnmasked(generated, original, featherWeights(mask, 8));
    let unmasked = 0;
    mask.data.forEach((m, i) => {
      if (m !== 0) return;
      unmasked++;
      for (let c = 3 * i; c < 3 * i + 3; c++) if (out.data[c] !== original.data[c]) expect.fail(`pixel ${i} channel ${c % 3} changed`);
    });
    expect(unmasked, "the mask leaves some of the photo unmasked").toBeGreaterThan(10_000);
    expect(sha256(out.data)).toBe(inpaintGoldens.photo.kept);
    expect(sha256(featherBytes(mask, 8).data)).toBe(inpaintGoldens.photo.feather8);
  });
});
