import { describe, expect, it } from "vitest";
import { differing, goldenBytes, goldenFloats } from "../../test/support/inpaint-goldens.js";
import { softedgeGoldens } from "../../test/support/softedge-goldens.js";
import { edgeLevels, safeStep } from "./edge-levels.js";

const { rounding } = softedgeGoldens;

describe("edge probabilities to bytes, as numpy's float32 does", () => {
  it("equals to_uint8 on every k/255, its float32 neighbours and random values", () => {
    expect(differing(edgeLevels(goldenFloats(rounding.edge), false), goldenBytes(rounding.uint8))).toBe(0);
  });

  it("equals to_uint8(safe_step(...)) on the same values, next to the 1/3 and 2/3 boundaries too", () => {
    expect(differing(edgeLevels(goldenFloats(rounding.edge), true), goldenBytes(rounding.safeUint8))).toBe(0);
  });

  it("quantises to 0, 0.5, 1 and 1.5, which become 0, 127, 255 and 255", () => {
    expect([0.3, 0.34, 0.9, 1].map(safeStep)).toEqual([0, 0.5, 1, 1.5]);
    expect(Array.from(edgeLevels(Float32Array.of(0.3, 0.34, 0.9, 1), true))).toEqual([0, 127, 255, 255]);
  });
});
