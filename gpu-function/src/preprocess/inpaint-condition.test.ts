import { describe, expect, it } from "vitest";
import { differing, goldenFloats, inpaintGoldens, photo, sha256, smallGray, smallImage } from "../../test/support/inpaint-goldens.js";
import { inpaintCondition } from "./inpaint-condition.js";
import { maskFromImage, MASK_SET } from "./inpaint-mask.js";
import { growMask } from "./mask-morphology.js";

describe("the inpaint condition (the model card's make_inpaint_condition)", () => {
  it("is RGB / 255 in NCHW, with -1 on every channel of a masked pixel", () => {
    const image = { width: 2, height: 1, data: Uint8Array.of(0, 51, 255, 10, 20, 30) };
    const t = inpaintCondition(image, { width: 2, height: 1, data: Uint8Array.of(0, MASK_SET) });
    expect(t.dims).toEqual([1, 3, 1, 2]);
    // planes R, G, B; pixel 0 kept (0, 0.2, 1 in float32), pixel 1 masked.
    expect(Array.from(t.data)).toEqual([0, -1, Math.fround(0.2), -1, 1, -1]);
  });

  it("equals numpy's float32 condition bit for bit on a random image and irregular mask", () => {
    const { small } = inpaintGoldens;
    const t = inpaintCondition(smallImage(small.rgb), smallGray(small.mask));
    expect(differing(t.data, goldenFloats(small.condition))).toBe(0);
  });

  it("equals numpy's on a real photo with a grown irregular mask", async () => {
    const coffee = await photo("coffee");
    expect(sha256(inpaintCondition(coffee, growMask(maskFromImage(coffee), 6)).data)).toBe(inpaintGoldens.photo.condition);
  });
});
