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

  it("sends an inpaint job's product photo and mask as their own parts, with every inpaint option", () => {
    const p = plan(
      "-i",
      "a.jpg",
      "-p",
      "x",
      "--inpaint-image",
      "necklace.png",
      "--mask",
      "mask.png",
      "--grow",
      "4",
      "--feather",
      "12",
      "--inpaint-strength",
      "0.7",
      "--no-keep-unmasked",
      "--intermediates",
      "inpaint_mask",
    );
    expect(p.request.input.inpaint).toEqual({
      image: { file: "inpaint_image" },
      mask: { file: "mask" },
      grow: 4,
      feather: 12,
      strength: 0.7,
      keep_unmasked: false,
    });
    expect(p.files).toEqual({ image0: "a.jpg", inpaint_image: "necklace.png", mask: "mask.png" });
    expect(CreateJobRequest.safeParse(p.request).success).toBe(true);
    // The size is left to the server: an inpaint job takes its product photo's.
    expect(p.request.input).not.toHaveProperty("width");
  });

  it("takes the mask from the photo's alpha, by upload id, and leaves the rest to the defaults", () => {
    const p = plan("-i", "a.jpg", "-p", "x", "--inpaint-image", "upl_01jdv5x0f3q2c7e9r6m4w8k1zt", "--mask-from-alpha", "--keep-unmasked");
    expect(p.request.input.inpaint).toEqual({
      image: { upload_id: "upl_01jdv5x0f3q2c7e9r6m4w8k1zt" },
      mask_from: "alpha",
      keep_unmasked: true,
    });
    expect(p.files).toEqual({ image0: "a.jpg" });
    expect(CreateJobRequest.safeParse(p.request).success).toBe(true);
  });

  it("sends a softedge photo with its detector, or an edge map as is", () => {
    const photo = plan(
      "-i",
      "a.jpg",
      "-p",
      "x",
      "--softedge-image",
      "pose.jpg",
      "--softedge-detector",
      "hed",
      "--softedge-strength",
      "0.8",
    );
    expect(photo.request.input.softedge).toEqual({ image: { file: "softedge_image" }, detector: "hed", strength: 0.8 });
    expect(photo.files).toMatchObject({ softedge_image: "pose.jpg" });
    const edges = plan("-i", "a.jpg", "-p", "x", "--edge-map", "https://example.com/edges.png", "--intermediates", "edge_map");
    expect(edges.request.input.softedge).toEqual({ edge_map: { url: "https://example.com/edges.png" } });
    expect(CreateJobRequest.safeParse(edges.request).success).toBe(true);
  });

  it.each([
    [["-p", "x"], /needs --image/],
    [["-i", "a.jpg", "-p", "x", "--mask", "m.png"], /--mask needs --inpaint-image/],
    [["-i", "a.jpg", "-p", "x", "--inpaint-image", "p.png"], /exactly one of --mask .* and --mask-from-alpha/],
    [["-i", "a.jpg", "-p", "x", "--inpaint-image", "p.png", "--mask", "m.png", "--mask-from-alpha"], /exactly one of --mask/],
    [["-i", "a.jpg", "-p", "x", "--inpaint-image", "p.png", "--mask", "m.png", "--grow", "1.5"], /--grow must be a whole number/],
    [
      ["-i", "a.jpg", "-p", "x", "--inpaint-image", "p.png", "--mask", "m.png", "--keep-unmasked", "--no-keep-unmasked"],
      /only one of --keep-unmasked and --no-keep-unmasked/,
    ],
    [["-i", "a.jpg", "-p", "x", "--softedge-image", "s.png", "--edge-map", "e.png"], /only one of --softedge-image and --edge-map/],
    [["-i", "a.jpg", "-p", "x", "--edge-map", "e.png", "--softedge-detector", "hed"], /--softedge-detector needs --softedge-image/],
    [["-i", "a.jpg", "-p", "x", "--softedge-image", "s.png", "--softedge-detector", "canny"], /must be one of pidinet, hed/],
    [["-i", "a.jpg", "-p", "x", "--softedge-strength", "1"], /--softedge-strength needs --softedge-image or --edge-map/],
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

  it("asks for the labels given, leaving the rest to the API's defaults, which the shared schema fills in", () => {
    const none = plan("-i", "a.jpg", "-p", "x");
    expect(none.request.input.provenance).toBeUndefined();
    expect(CreateJobRequest.parse(none.request).input.provenance).toEqual({ embed: "c2pa+iptc", include_prompt: false });
    const iptc = plan("-i", "a.jpg", "-p", "x", "--provenance", "iptc");
    expect(iptc.request.input.provenance).toEqual({ embed: "iptc" });
    const prompt = plan("-i", "a.jpg", "-p", "x", "--include-prompt");
    expect(CreateJobRequest.parse(prompt.request).input.provenance).toEqual({ embed: "c2pa+iptc", include_prompt: true });
    const both = plan("-i", "a.jpg", "-p", "x", "--provenance", "none", "--include-prompt");
    expect(both.request.input.provenance).toEqual({ embed: "none", include_prompt: true });
    expect(() => plan("-i", "a.jpg", "-p", "x", "--provenance", "c2pa")).toThrow(/--provenance must be one of c2pa\+iptc, iptc, none/);
  });

  it("parses keypoints and names the bad pair", () => {
    expect(parseKeypoints("1,2;3,4;5,6;7,8;9,10;")).toHaveLength(5);
    expect(() => parseKeypoints("1,2;3,4")).toThrow(/needs 5 points.*got 2/);
    expect(() => parseKeypoints("1,2;3;5,6;7,8;9,10")).toThrow(/"3" is not x,y/);
  });
});
