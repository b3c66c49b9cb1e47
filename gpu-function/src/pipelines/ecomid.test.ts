import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GpuJobSpec } from "@ecomid/shared/protocol";
import { guidanceAmplification, levelBound } from "../../test/float-bounds.js";
import { referenceJobSpec, type ReferenceParameters } from "../../test/reference-job.js";
import {
  maxAbs,
  maxAbsDiff,
  openTinyBundle,
  referenceBound,
  referenceF32,
  referenceParameters,
  referenceU8,
  scaledError,
} from "../../test/reference.js";
import { ReferenceDetection } from "../../test/reference-detection.js";
import type { ModelBundle } from "../runtime/bundle.js";
import { EcomidPipeline } from "./ecomid.js";
import { JobCanceled } from "./job-failure.js";

const p = referenceParameters as unknown as ReferenceParameters;
const astronaut = new Uint8Array(readFileSync("test/fixtures/images/astronaut.png"));
const coffee = new Uint8Array(readFileSync("test/fixtures/images/coffee.png"));
const index = JSON.parse(readFileSync("bundles/tiny/reference/index.json", "utf8")) as { tensors: Record<string, unknown> };

const spec = (sampler: GpuJobSpec["sampler"], overrides: Partial<GpuJobSpec> = {}): GpuJobSpec =>
  referenceJobSpec(p, sampler, astronaut.byteLength, overrides);

let bundle: ModelBundle;
let pipeline: EcomidPipeline;
let parityPipeline: EcomidPipeline;
beforeAll(async () => {
  bundle = await openTinyBundle();
  pipeline = await EcomidPipeline.load(bundle);
  parityPipeline = await EcomidPipeline.load(bundle, {
    faces: new ReferenceDetection(await bundle.graph("scrfd"), await bundle.graph("arcface"), bundle.manifest),
  });
});
afterAll(() => bundle.release());

describe("EcomID pipeline parity with the PyTorch reference", () => {
  // Every graph the conditioning goes through once (text towers, ArcFace, ID encoder, Resampler), then one
  // denoiser evaluation per latents the sampler gives back; guidance scales the two rows' errors.
  const conditioning = { clip_l: 1, clip_g: 1, arcface: 1, id_prep: 1, id_encoder: 1, resampler: 1 };
  const amplification = guidanceAmplification(p.guidance);

  for (const sampler of ["euler", "dpmpp_2m_karras", "dpm_2_karras"] as const) {
    it(`${sampler}: latents after every step and the image within float32's bounds for the graphs run so far`, async () => {
      const latents: Float32Array[] = [];
      const result = await parityPipeline.run(
        {
          spec: spec(sampler),
          references: [astronaut],
          keypointImage: null,
          intermediates: [],
          initialNoise: referenceF32("initial_noise").data,
        },
        { onLatents: (i, l) => (latents[i] = l) },
      );
      const expectedSteps = Object.keys(index.tensors).filter((k) => k.startsWith(`${sampler}_latents_step`)).length;
      expect(latents).toHaveLength(expectedSteps);
      latents.forEach((l, i) => {
        const bound = referenceBound({ ...conditioning, denoiser: i + 1 }, amplification);
        expect(scaledError(l, referenceF32(`${sampler}_latents_step${i}`).data), `step ${i}`).toBeLessThanOrEqual(bound);
      });
      const decoded = referenceF32(`${sampler}_decoded`).data;
      const bound = referenceBound({ ...conditioning, denoiser: latents.length, vae_decoder: 1 }, amplification);
      const scale = Math.max(1, maxAbs(decoded));
      expect(maxAbsDiff(result.outputs[0]!.rgb.data, referenceU8(`${sampler}_image`).data)).toBeLessThanOrEqual(
        levelBound(bound * scale, 127.5),
      );
      expect(result.faces).toHaveLength(1);
      expect(result.chosenFace).toBe(0);
    });
  }

  it("keeps the bounds tight enough to see a mistake: guidance 10% off leaves them", async () => {
    const latents: Float32Array[] = [];
    await parityPipeline.run(
      {
        spec: spec("dpm_2_karras", { guidance: p.guidance * 1.1 }),
        references: [astronaut],
        keypointImage: null,
        intermediates: [],
        initialNoise: referenceF32("initial_noise").data,
      },
      { onLatents: (i, l) => (latents[i] = l) },
    );
    const beyond = latents.some(
      (l, i) =>
        scaledError(l, referenceF32(`dpm_2_karras_latents_step${i}`).data) >
        referenceBound({ ...conditioning, denoiser: i + 1 }, amplification),
    );
    expect(beyond).toBe(true);
  });

  it("finds the reference's one face by its own detection", async () => {
    const result = await pipeline.run({
      spec: spec("euler", { steps: 1 }),
      references: [astronaut],
      keypointImage: null,
      intermediates: [],
    });
    expect(result.faces).toHaveLength(1);
    expect(result.chosenFace).toBe(0);
  });
});

describe("EcomID pipeline behaviour", () => {
  it("encodes each output in the asked format, returns intermediates, reports stage timings", async () => {
    const result = await pipeline.run({
      spec: spec("euler", { num_outputs: 2, output_format: "webp" }),
      references: [astronaut],
      keypointImage: null,
      intermediates: ["keypoint_image", "ffhq_crop"],
    });
    expect(result.outputs.map((o) => [o.index, o.seed, o.contentType])).toEqual([
      [0, 1, "image/webp"],
      [1, 2, "image/webp"],
    ]);
    expect(String.fromCharCode(...result.outputs[0]!.bytes.subarray(8, 12))).toBe("WEBP");
    expect(result.outputs[0]!.bytes).not.toEqual(result.outputs[1]!.bytes);
    expect(result.intermediates.map((i) => [i.kind, i.width])).toEqual([
      ["keypoint_image", 512],
      ["ffhq_crop", 512],
    ]);
    for (const stage of ["decode", "faces", "identity", "keypoints", "text", "denoise", "vae", "encode"])
      expect(result.stagesMs).toHaveProperty(stage);
  });

  it("takes keypoints from explicit points, a pose image with a face, or uses a face-less pose image as the hint", async () => {
    const run = (keypoints: GpuJobSpec["keypoints"], keypointImage: Uint8Array | null) =>
      pipeline.run({
        spec: spec("euler", { steps: 1, keypoints }),
        references: [astronaut],
        keypointImage,
        intermediates: ["keypoint_image"],
      });
    const points = await run(
      {
        type: "points",
        points: [
          [20, 24],
          [44, 24],
          [32, 34],
          [24, 46],
          [40, 46],
        ],
      },
      null,
    );
    expect([points.intermediates[0]!.width, points.intermediates[0]!.height]).toEqual([64, 64]);
    const asset = { url: "unused", content_type: "image/png", sha256: "x", bytes: 1 };
    const pose = await run({ type: "pose_image", image: asset }, astronaut);
    expect(pose.intermediates[0]!.width).toBe(512); // drawn on the pose image's canvas
    const noFace = await run({ type: "pose_image", image: asset }, coffee);
    expect([noFace.intermediates[0]!.width, noFace.intermediates[0]!.height]).toEqual([600, 400]); // passed through
  });

  it("is reproducible from the seed", async () => {
    const job = { spec: spec("euler_ancestral"), references: [astronaut], keypointImage: null, intermediates: [] };
    const a = await pipeline.run(job);
    const b = await pipeline.run(job);
    expect(a.outputs[0]!.rgb.data).toEqual(b.outputs[0]!.rgb.data);
  });

  it("fails with face_not_detected when the reference has no face", async () => {
    await expect(pipeline.run({ spec: spec("euler"), references: [coffee], keypointImage: null, intermediates: [] })).rejects.toMatchObject(
      { name: "FaceNotDetectedError" },
    );
  });

  it("stops at the next step when canceled", async () => {
    let steps = 0;
    await expect(
      pipeline.run(
        { spec: spec("euler", { steps: 10 }), references: [astronaut], keypointImage: null, intermediates: [] },
        {
          onProgress: (stage) => {
            if (stage === "denoising") steps++;
          },
          isCanceled: () => steps >= 2,
        },
      ),
    ).rejects.toBeInstanceOf(JobCanceled);
    expect(steps).toBe(2);
  });
});
