import { describe, expect, it } from "vitest";
import { sha256 } from "../../test/support/inpaint-goldens.js";
import { casePhoto, softedgeGoldens } from "../../test/support/softedge-goldens.js";
import { annotatorSize, resizeForAnnotator } from "./annotator-resize.js";
import { cv } from "./opencv.js";

describe("controlnet_aux's resize_image", () => {
  it("gives the size and interpolation annotators/reference.py's resized_shape gives", () => {
    for (const s of softedgeGoldens.shapes) {
      const { width, height, interpolation } = annotatorSize(s.width, s.height, s.resolution);
      expect([height, width, interpolation], `${s.width}x${s.height} at ${s.resolution}`).toEqual(s.out);
    }
  });

  it("rounds ties to even as numpy does, and keeps INTER_AREA at scale 1", () => {
    // 192x128 at 192: k = 1.5, 288 / 64 = 4.5 tiles -> 4, not Math.round's 5.
    expect(annotatorSize(192, 128, 192)).toMatchObject({ width: 256, height: 192, interpolation: cv.INTER_LANCZOS4 });
    // 160x120 at 120: k = 1 exactly, so INTER_AREA; 2.5 tiles -> 2.
    expect(annotatorSize(160, 120, 120)).toMatchObject({ width: 128, height: 128, interpolation: cv.INTER_AREA });
  });

  it("resizes the photo to cv2's bytes, shrinking (AREA), at scale 1 (AREA) and enlarging (LANCZOS4)", async () => {
    for (const c of softedgeGoldens.cases.filter((c) => c.detector === "pidinet")) {
      const sized = resizeForAnnotator(await casePhoto(c), c.detectResolution);
      const label = `${c.crop ? `crop ${c.crop.join(",")}` : "whole photo"} at ${c.detectResolution}`;
      expect([sized.width, sized.height], label).toEqual([c.detectWidth, c.detectHeight]);
      expect(sha256(sized.data), label).toBe(c.detectSizedSha256);
    }
  });
});
