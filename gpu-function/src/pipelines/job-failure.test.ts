import { describe, expect, it } from "vitest";
import { FaceNotDetectedError } from "../models/face-analysis.js";
import { PromptTooLongError } from "../models/tokenizer.js";
import { ImageError } from "../runtime/image.js";
import { JobFailure, toJobError } from "./job-failure.js";

describe("toJobError", () => {
  it("reports a failure's code, message and hint as they were given, whatever the message says", () => {
    const failure = new FaceNotDetectedError("face_index_out_of_range", "face_index 2 was asked for. Only 1 face(s) were detected");
    expect(toJobError(failure)).toEqual({
      code: "face_index_out_of_range",
      message: "face_index 2 was asked for. Only 1 face(s) were detected",
      retryable: false,
      hint: failure.hint,
    });
    expect(failure.hint).toMatch(/face_index/);
    expect(toJobError(new FaceNotDetectedError("face_not_detected", "no face was detected in the 64x64 reference image"))).toMatchObject({
      code: "face_not_detected",
      message: "no face was detected in the 64x64 reference image",
      hint: expect.stringMatching(/pad the image/),
    });
  });

  it("hints at the prompt field that is too long, with its limit", () => {
    expect(toJobError(new PromptTooLongError("negative_prompt", 80, 75))).toEqual({
      code: "parameter_out_of_range",
      message: "negative_prompt is 80 CLIP tokens long; at most 75 fit (77 with the start and end tokens)",
      retryable: false,
      hint: "shorten the negative prompt to at most 75 CLIP tokens",
    });
  });

  it("keeps retryable and leaves out an absent hint", () => {
    expect(toJobError(new JobFailure("input_fetch_failed", "the pose_image was not provided", { retryable: true }))).toEqual({
      code: "input_fetch_failed",
      message: "the pose_image was not provided",
      retryable: true,
    });
  });

  it("reports a refused image with its own code, and anything unforeseen as a retryable internal_error", () => {
    expect(toJobError(new ImageError("image_undecodable", "the image header gives no size"))).toEqual({
      code: "image_undecodable",
      message: "the image header gives no size",
      retryable: false,
    });
    expect(toJobError(new TypeError("boom"))).toEqual({ code: "internal_error", message: "boom", retryable: true });
  });
});
