import { describe, expect, it } from "vitest";
import { defaultOutputSize, resolveOutputSize } from "./output-size.js";

// The catalog's two models' limits (edge/src/config/models.ts), written out: the rule is the API's, not the catalog's.
const TINY = { min_side: 64, max_side: 256, max_pixels: 256 * 256, side_multiple: 64 };
const SDXL = { min_side: 512, max_side: 2048, max_pixels: 1536 * 1536, side_multiple: 8 };

describe("an inpaint job's default output size", () => {
  it("rounds each side to the nearest multiple, a tie upward", () => {
    // 200 / 64 = 3.125 -> 3 x 64; 160 / 64 = 2.5 -> a tie, up to 3 x 64; 95 / 64 = 1.48 -> 64.
    expect(defaultOutputSize({ width: 200, height: 160 }, TINY)).toEqual({ width: 192, height: 192 });
    expect(defaultOutputSize({ width: 95, height: 97 }, TINY)).toEqual({ width: 64, height: 128 });
    // 1003 / 8 = 125.4 -> 1000; 668 / 8 = 83.5 -> a tie, up to 672.
    expect(defaultOutputSize({ width: 1003, height: 668 }, SDXL)).toEqual({ width: 1000, height: 672 });
  });

  it("brings each side within the model's min and max side", () => {
    expect(defaultOutputSize({ width: 1000, height: 10 }, TINY)).toEqual({ width: 256, height: 64 });
    expect(defaultOutputSize({ width: 300, height: 5000 }, SDXL)).toEqual({ width: 512, height: 2048 });
  });

  it("scales both sides down by one factor when the pair exceeds the pixel budget, rounding down to the multiple", () => {
    // 2000 x 2000 = 4.0 MP > 1536^2 = 2.36 MP: factor sqrt(2359296 / 4000000) = 0.768, 2000 x 0.768 = 1536.
    const square = defaultOutputSize({ width: 2000, height: 2000 }, SDXL);
    expect(square).toEqual({ width: 1536, height: 1536 });
    // 2048 x 1536 = 3.1 MP: factor 0.866 -> 1773.6 and 1330.2, down to multiples of 8: 1768 x 1328.
    const wide = defaultOutputSize({ width: 2048, height: 1536 }, SDXL);
    expect(wide).toEqual({ width: 1768, height: 1328 });
    expect(wide.width * wide.height).toBeLessThanOrEqual(SDXL.max_pixels);
  });

  it("takes from the image only the sides the client left out", () => {
    const fallback = { width: 1024, height: 1024 };
    expect(resolveOutputSize({ width: 640 }, { width: 1003, height: 668 }, fallback, SDXL)).toEqual({ width: 640, height: 672 });
    expect(resolveOutputSize({}, null, fallback, SDXL)).toEqual(fallback);
    expect(resolveOutputSize({ height: 512 }, null, fallback, SDXL)).toEqual({ width: 1024, height: 512 });
  });
});
