import { readFileSync } from "node:fs";
import sharp from "sharp";
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
import { luma } from "../preprocess/gray-image.js";
import { prepareInpaint } from "../preprocess/inpaint-inputs.js";
import { maskFromImage } from "../preprocess/inpaint-mask.js";
import { softedgeCondition } from "../preprocess/softedge-condition.js";
import type { ModelBundle } from "../runtime/bundle.js";
import { decodeImage } from "../runtime/image.js";
import { NO_CONTROL_IMAGES, type ControlImageBytes } from "./control-inputs.js";
import { EcomidPipeline } from "./ecomid.js";

// The tiny bundle's inpaint, softedge and combined reference jobs (infra/export/ecomid_export/reference/
// controlnet_jobs.py): conditions pixel for pixel, then every step of two samplers through the gated denoiser
// within float32's bound for the graphs run, as ecomid.test.ts holds the plain job.
const p = referenceParameters as unknown as ReferenceParameters;
const index = JSON.parse(readFileSync("bundles/tiny/reference/index.json", "utf8")) as {
  tensors: Record<string, { shape: number[] }>;
  controlnet_jobs: {
    grow: number;
    feather: number;
    inpaint_strength: number;
    softedge_strength: number;
    samplers: GpuJobSpec["sampler"][];
    jobs: Record<string, ("inpaint" | "softedge")[]>;
  };
};
const jobs = index.controlnet_jobs;
const astronaut = new Uint8Array(readFileSync("test/fixtures/images/astronaut.png"));
const coffee = new Uint8Array(readFileSync("test/fixtures/images/coffee.png"));
const unused = { url: "unused", content_type: "image/png", sha256: "x", bytes: 1 };
/** The reference job's inpaint input (its images come as the pipeline's control image bytes). */
const inpaintAt = (strength: number): NonNullable<GpuJobSpec["inpaint"]> => ({
  image: unused,
  mask: unused,
  mask_from: "mask",
  grow: jobs.grow,
  feather: jobs.feather,
  strength,
  keep_unmasked: true,
});

/** A reference tensor (HWC uint8, 1 or 3 channels) as the PNG a client would send. */
async function pngOf(name: string): Promise<Uint8Array> {
  const [height, width, channels = 1] = index.tensors[name]?.shape ?? [];
  if (!height || !width) throw new Error(`no shape for ${name}`);
  const raw = { width, height, channels: channels as 1 | 3 };
  return new Uint8Array(await sharp(referenceU8(name).data, { raw }).png().toBuffer());
}

let bundle: ModelBundle;
let pipeline: EcomidPipeline;
let images: ControlImageBytes;
beforeAll(async () => {
  bundle = await openTinyBundle();
  pipeline = await EcomidPipeline.load(bundle, {
    faces: new ReferenceDetection(await bundle.graph("scrfd"), await bundle.graph("arcface"), bundle.manifest),
  });
  images = {
    ...NO_CONTROL_IMAGES,
    inpaintImage: coffee,
    inpaintMask: await pngOf("inpaint_mask_source"),
    softedgeImage: await pngOf("softedge_edge_map_source"),
  };
});
afterAll(() => bundle.release());

/** The reference job's inputs and initial noise with `spec`; the latents after every model evaluation. */
async function runReference(spec: GpuJobSpec) {
  const latents: Float32Array[] = [];
  const result = await pipeline.run(
    {
      spec,
      references: [astronaut],
      keypointImage: null,
      controlImages: images,
      intermediates: [],
      initialNoise: referenceF32("initial_noise").data,
    },
    { onLatents: (i, l) => (latents[i] = l) },
  );
  return { result, latents };
}

describe("the inpaint and softedge conditions equal the reference's pixel for pixel", () => {
  it("inpaint: the image at the output size, the grown mask, the condition and the keep_unmasked weights", async () => {
    const prepared = prepareInpaint(await decodeImage(coffee), maskFromImage(await decodeImage(await pngOf("inpaint_mask_source"))), {
      width: p.width,
      height: p.height,
      grow: jobs.grow,
      feather: jobs.feather,
      keepUnmasked: true,
    });
    expect(Buffer.from(prepared.image.data).equals(Buffer.from(referenceU8("inpaint_image").data))).toBe(true);
    expect(Buffer.from(prepared.mask.data).equals(Buffer.from(referenceU8("inpaint_mask").data))).toBe(true);
    expect(prepared.condition.data).toEqual(referenceF32("inpaint_condition").data);
    expect(prepared.weights).toEqual(referenceF32("inpaint_blend_weight").data);
  });

  it("softedge: the given edge map, gray, resized as bytes, over 255", async () => {
    const edges = luma(await decodeImage(await pngOf("softedge_edge_map_source")));
    expect(softedgeCondition(edges, p.width, p.height).tensor.data).toEqual(referenceF32("softedge_condition").data);
  });
});

describe("inpaint and softedge jobs equal the PyTorch reference within float32's bounds", () => {
  // As ecomid.test.ts: each conditioning graph once, then one gated-denoiser evaluation per latents returned.
  const conditioning = { clip_l: 1, clip_g: 1, arcface: 1, id_prep: 1, id_encoder: 1, resampler: 1 };
  const amplification = guidanceAmplification(p.guidance);

  for (const [job, used] of Object.entries(jobs.jobs))
    for (const sampler of jobs.samplers) {
      it(`${job}, ${sampler}: latents after every step, the image and the kept image`, async () => {
        const spec = referenceJobSpec(p, sampler, astronaut.byteLength, {
          ...(used.includes("inpaint") ? { inpaint: inpaintAt(jobs.inpaint_strength) } : {}),
          ...(used.includes("softedge") ? { softedge: { edge_map: unused, strength: jobs.softedge_strength } } : {}),
        });
        const { result, latents } = await runReference(spec);
        const name = `${job}_${sampler}`;
        expect(latents).toHaveLength(Object.keys(index.tensors).filter((k) => k.startsWith(`${name}_latents_step`)).length);
        latents.forEach((l, i) => {
          const bound = referenceBound({ ...conditioning, denoiser_inpaint_softedge: i + 1 }, amplification);
          expect(scaledError(l, referenceF32(`${name}_latents_step${i}`).data), `step ${i}`).toBeLessThanOrEqual(bound);
        });
        const bound = referenceBound({ ...conditioning, denoiser_inpaint_softedge: latents.length, vae_decoder: 1 }, amplification);
        const levels = levelBound(bound * Math.max(1, maxAbs(referenceF32(`${name}_decoded`).data)), 127.5);
        const output = result.outputs[0];
        if (!output) throw new Error("no output");
        if (!used.includes("inpaint")) {
          expect(maxAbsDiff(output.rgb.data, referenceU8(`${name}_image`).data)).toBeLessThanOrEqual(levels);
          return;
        }
        // The kept image blends the generated one with weights in [0, 1], so it moves at most as far, plus one level
        // where the truncation to uint8 falls on the other side; where the weight is 0 it is the photo's, exactly.
        expect(maxAbsDiff(output.rgb.data, referenceU8(`${name}_kept`).data)).toBeLessThanOrEqual(levels + 1);
        const weights = referenceF32("inpaint_blend_weight").data;
        const photo = referenceU8("inpaint_image").data;
        weights.forEach((w, pixel) => {
          if (w === 0) for (let c = 0; c < 3; c++) expect(output.rgb.data[3 * pixel + c]).toBe(photo[3 * pixel + c]);
        });
      });
    }

  it("keeps the bounds tight enough to see a mistake: the inpaint strength 10% off leaves them", async () => {
    const spec = referenceJobSpec(p, "euler", astronaut.byteLength, {
      inpaint: inpaintAt(jobs.inpaint_strength * 0.9),
    });
    const { latents } = await runReference(spec);
    const beyond = latents.some(
      (l, i) =>
        scaledError(l, referenceF32(`inpaint_euler_latents_step${i}`).data) >
        referenceBound({ ...conditioning, denoiser_inpaint_softedge: i + 1 }, amplification),
    );
    expect(beyond).toBe(true);
  });
});
