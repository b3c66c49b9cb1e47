import { describe, expect, it } from "vitest";
import { differing, goldenFloats, inpaintGoldens, photo, sha256, smallImage } from "../../test/support/inpaint-goldens.js";
import { luma } from "./gray-image.js";
import { edgeMapFromImage, softedgeCondition } from "./softedge-condition.js";

describe("the softedge condition from a given edge map", () => {
  it("is the gray edge map / 255 on three planes, NCHW, and the same bytes on three channels as the intermediate", () => {
    const edges = edgeMapFromImage({ width: 2, height: 1, data: Uint8Array.of(0, 0, 0, 255, 0, 0) }); // luma 0 and 76
    const { edgeMap, tensor } = softedgeCondition(edges, 2, 1);
    expect(tensor.dims).toEqual([1, 3, 1, 2]);
    const v = Math.fround(76 / 255);
    expect(Array.from(tensor.data)).toEqual([0, v, 0, v, 0, v]);
    expect(Array.from(edgeMap.data)).toEqual([0, 0, 0, 76, 76, 76]);
  });

  it("equals numpy's on random edges, resized with cv2.INTER_LINEAR where the size differs", () => {
    const { small } = inpaintGoldens;
    const edges = luma(smallImage(small.rgb));
    for (const r of small.resize) {
      const { tensor } = softedgeCondition(edges, r.outWidth, r.outHeight);
      expect(differing(tensor.data, goldenFloats(r.softedge)), `${r.outWidth}x${r.outHeight}`).toBe(0);
    }
  });

  it("equals numpy's on a real photo used as the edge map, enlarged to 640x448", async () => {
    const { tensor, edgeMap } = softedgeCondition(edgeMapFromImage(await photo("coffee")), 640, 448);
    expect(sha256(tensor.data)).toBe(inpaintGoldens.photo.softedge640x448);
    expect([edgeMap.width, edgeMap.height]).toEqual([640, 448]);
  });
});
