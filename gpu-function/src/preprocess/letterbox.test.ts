import { describe, expect, it } from "vitest";
import { letterbox } from "./letterbox.js";

describe("letterbox", () => {
  it("keeps the aspect, truncates the short side, pastes top-left and pads with normalised zeros", () => {
    // 4 x 2 white image into 8: resized to 8 x 4 at the top, rows 4..7 padding.
    const white = { width: 4, height: 2, data: new Uint8Array(4 * 2 * 3).fill(255) };
    const { blob, scale } = letterbox(white, 8, 127.5, 128);
    expect(scale).toBe(2);
    expect(blob).toHaveLength(3 * 64);
    expect(blob[0]).toBeCloseTo(127.5 / 128, 7);
    expect(blob[3 * 8 + 7]).toBeCloseTo(127.5 / 128, 7);
    expect(blob[4 * 8]).toBe(-127.5 / 128);
    expect(blob[2 * 64 + 63]).toBe(-127.5 / 128);
  });

  it("fits a portrait image by its height (det_scale = new height / height)", () => {
    const tall = { width: 3, height: 7, data: new Uint8Array(3 * 7 * 3) };
    const { scale } = letterbox(tall, 640, 127.5, 128);
    expect(scale).toBe(640 / 7);
  });
});
