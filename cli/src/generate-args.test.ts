import { parseArgs } from "node:util";
import { describe, expect, it } from "vitest";
import { CreateJobRequest } from "@ecomid/shared/api";
import { UsageError } from "./exit-codes.js";
import { generateOptions, parseKeypoints, planGenerate } from "./generate-args.js";

const plan = (...args: string[]) => planGenerate(parseArgs({ args, options: generateOptions, strict: true }).values);

describe("generate options", () => {
  it("maps every job parameter onto the request, which the shared schema accepts", () => {
    const p = plan(
      "--image",
      "face.jpg",
      "--image",
      "upl_01jdv5x0f3q2c7e9r6m4w8k1zt",
      "--prompt",
      "a portrait",
      "--negative-prompt",
      "blurry",
      "--keypoints",
      "24,26; 40,26; 32,34; 26,44; 38,44",
      "--face-index",
      "1",
      "--identity-strength",
      "0.5",
      "--structure-strength",
      "0.7",
      "--id-mode",
      "style",
      "--id-noise",
      "0.35",
      "--steps",
      "4",
      "--guidance",
      "2.5",
      "--sampler",
      "euler",
      "--seed",
      "7",
      "--width",
      "64",
      "--height",
      "128",
      "--outputs",
      "2",
      "--format",
      "png",
      "--quality",
      "80",
      "--intermediates",
      "keypoint_image,ffhq_crop",
      "--model",
      "ecomid-tiny",
      "--webhook",
      "https://example.com/h",
      "--metadata",
      "order=42",
      "--deadline",
      "600",
      "--retention",
      "3600",
      "--idempotency-key",
      "k1",
      "--out",
      "/tmp/o",
      "--timeout",
      "30",
    );
    expect(p.request).toEqual({
      model: "ecomid-tiny",
      input: {
        reference_images: [{ file: "image0" }, { upload_id: "upl_01jdv5x0f3q2c7e9r6m4w8k1zt" }],
        prompt: "a portrait",
        negative_prompt: "blurry",
        keypoints: {
          type: "points",
          points: [
            [24, 26],
            [40, 26],
            [32, 34],
            [26, 44],
            [38, 44],
          ],
        },
        face_index: 1,
        identity_strength: 0.5,
        structure_strength: 0.7,
        id_mode: "style",
        id_noise: 0.35,
        steps: 4,
        guidance: 2.5,
        sampler: "euler",
        seed: 7,
        width: 64,
        height: 128,
        num_outputs: 2,
        output_format: "png",
        output_quality: 80,
        return_intermediates: ["keypoint_image", "ffhq_crop"],
      },
      webhook: { url: "https://example.com/h" },
      metadata: { order: "42" },
      deadline_seconds: 600,
      retention_seconds: 3600,
    });
    expect(CreateJobRequest.safeParse(p.request).success).toBe(true);
    expect(p).toMatchObject({
      files: { image0: "face.jpg" },
      out: "/tmp/o",
      timeoutMs: 30_000,
      idempotencyKey: "k1",
      wait: true,
      modelGiven: true,
    });
  });

  it("leaves unset parameters out so the model's defaults apply", () => {
    const p = plan("-i", "face.jpg", "-p", "hi");
    expect(p.request).toEqual({ input: { reference_images: [{ file: "image0" }], prompt: "hi" } });
    expect(p).toMatchObject({ out: "ecomid-output", wait: true, modelGiven: false });
  });

  it("sends a pose image or a keypoint image as its own part", () => {
    expect(plan("-i", "a.jpg", "-p", "x", "--pose-image", "pose.png")).toMatchObject({
      request: { input: { keypoints: { type: "pose_image", image: { file: "pose" } } } },
      files: { image0: "a.jpg", pose: "pose.png" },
    });
    expect(plan("-i", "a.jpg", "-p", "x", "--keypoint-image", "https://example.com/k.png").request.input.keypoints).toEqual({
      type: "keypoint_image",
      image: { url: "https://example.com/k.png" },
    });
  });

  it.each([
    [["-p", "x"], /needs --image/],
    [["-i", "a.jpg"], /needs --prompt/],
    [["-i", "a.jpg", "-p", "x", "--steps", "4.5"], /--steps must be a whole number/],
    [["-i", "a.jpg", "-p", "x", "--guidance", "lots"], /--guidance must be a number, got "lots"/],
    [["-i", "a.jpg", "-p", "x", "--sampler", "ddim"], /--sampler must be one of euler, /],
    [["-i", "a.jpg", "-p", "x", "--format", "gif"], /--format must be one of webp, png, jpeg/],
    [["-i", "a.jpg", "-p", "x", "--pose-image", "p.png", "--keypoints", "1,1;1,1;1,1;1,1;1,1"], /only one of --pose-image/],
    [["-i", "a.jpg", "-p", "x", "--metadata", "novalue"], /key=value/],
    [["-i", "a.jpg", "-p", "x", "--intermediates", "depth"], /--intermediates must be one of/],
  ])("refuses %j with a usage error", (args, message) => {
    expect(() => plan(...args)).toThrow(UsageError);
    expect(() => plan(...args)).toThrow(message);
  });

  it("parses keypoints and names the bad pair", () => {
    expect(parseKeypoints("1,2;3,4;5,6;7,8;9,10;")).toHaveLength(5);
    expect(() => parseKeypoints("1,2;3,4")).toThrow(/needs 5 points.*got 2/);
    expect(() => parseKeypoints("1,2;3;5,6;7,8;9,10")).toThrow(/"3" is not x,y/);
  });
});
