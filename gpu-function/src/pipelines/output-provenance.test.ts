import { readFileSync } from "node:fs";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GpuJobSpec, GpuProvenanceRequest, ResolvedImage } from "@ecomid/shared/protocol";
import { openTinyBundle } from "../../test/reference.js";
import { makeDevelopmentCertificate, type DevelopmentCertificate } from "../provenance/development-certificate.js";
import { DIGITAL_SOURCE_TYPE, loadSigner } from "../provenance/index.js";
import { readC2pa, readXmpWithExiftool, type C2paReading } from "../provenance/test-support/independent-readers.js";
import type { ModelBundle } from "../runtime/bundle.js";
import { SOFTWARE_AGENT } from "../runtime/version.js";
import { NO_CONTROL_IMAGES, type ControlImageBytes } from "./control-inputs.js";
import { EcomidPipeline } from "./ecomid.js";
import { JobFailure } from "./job-failure.js";
import { localJobSpec } from "./local-job.js";

/**
 * Real pipeline outputs on the tiny bundle, labelled as a job asks (issue 15), read by readers that did not write
 * them: c2pa-python (the C2PA reference reader) and exiftool. The certificate is a throwaway one made for this run.
 */
const SIDE = 64;
const JOB_ID = "job_01JPIPELINEPROVENANCE";
const PROMPT = "a studio portrait <of> a person & a mug";
const astronaut = new Uint8Array(readFileSync("test/fixtures/images/astronaut.png"));
const local: ResolvedImage = { url: "local", content_type: "image/png", sha256: "", bytes: 1 };
const MIME = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" } as const;

let bundle: ModelBundle;
let bundleId: string;
let certificate: DevelopmentCertificate;
let signing: EcomidPipeline;
let unsigned: EcomidPipeline;
beforeAll(async () => {
  bundle = await openTinyBundle();
  bundleId = `${bundle.manifest.id}@${bundle.manifest.version}`;
  certificate = makeDevelopmentCertificate("es256");
  signing = await EcomidPipeline.load(bundle, {
    labelling: { signer: loadSigner(certificate), developmentCertificate: true, softwareAgent: SOFTWARE_AGENT },
  });
  unsigned = await EcomidPipeline.load(bundle);
});
afterAll(() => bundle.release());

function spec(provenance: GpuProvenanceRequest, overrides: Partial<GpuJobSpec> = {}): GpuJobSpec {
  return localJobSpec(
    { bytes: astronaut.byteLength, contentType: "image/png" },
    { width: SIDE, height: SIDE, steps: 2, seed: 3, prompt: PROMPT, output_format: "webp", provenance, ...overrides },
  );
}

async function run(pipeline: EcomidPipeline, jobSpec: GpuJobSpec, controlImages: ControlImageBytes = NO_CONTROL_IMAGES) {
  const result = await pipeline.run({
    jobId: JOB_ID,
    spec: jobSpec,
    references: [astronaut],
    keypointImage: null,
    controlImages,
    intermediates: [],
  });
  const output = result.outputs[0];
  if (!output) throw new Error("the job returned no output");
  return { report: result.provenance, bytes: output.bytes, format: jobSpec.output_format };
}

function actionsOf(reading: C2paReading): unknown[] {
  const assertion = reading.active_manifest?.assertions.find((entry) => entry.label.startsWith("c2pa.actions"));
  if (assertion === undefined) throw new Error("no actions assertion in the active manifest");
  return (assertion.data as { actions: unknown[] }).actions;
}

describe("a generation job with c2pa+iptc (the default)", () => {
  let output: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    output = await run(signing, spec({ embed: "c2pa+iptc", include_prompt: false }));
  });

  it("has a manifest the C2PA reader finds Valid, and Trusted with the run's CA as anchor", () => {
    expect(readC2pa(output.bytes, MIME.webp).validation_state).toBe("Valid");
    const trusted = readC2pa(output.bytes, MIME.webp, certificate.caPem);
    expect(trusted.validation_state).toBe("Trusted");
    expect(actionsOf(trusted)).toEqual([
      { action: "c2pa.created", digitalSourceType: DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia, softwareAgent: SOFTWARE_AGENT },
    ]);
  });

  it("says in XMP that it is AI-generated, by which software, bundle and job, and not the prompt", () => {
    const xmp = readXmpWithExiftool(output.bytes, output.format);
    expect(xmp["XMP-iptcExt:DigitalSourceType"]).toBe(DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia);
    expect(xmp["XMP-iptcExt:AISystemVersionUsed"]).toBe(JSON.parse(readFileSync("gpu-function/package.json", "utf8")).version);
    expect(xmp["XMP-ecomid:BundleId"]).toBe(bundleId);
    expect(xmp["XMP-ecomid:JobId"]).toBe(JOB_ID);
    expect(xmp).not.toHaveProperty("XMP-iptcExt:AIPromptInformation");
  });

  it("reports what it embedded, naming the development certificate's signer", () => {
    expect(output.report).toEqual({
      embedded: "c2pa+iptc",
      digital_source_type: DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia,
      c2pa: { signer: "EcomID development signer", alg: "es256", action: "c2pa.created", development_certificate: true },
      prompt_included: false,
    });
  });
});

describe("an inpaint job that keeps the product photo's pixels", () => {
  it("is labelled a composite, c2pa.created then c2pa.edited, in the manifest and in XMP", async () => {
    const product = new Uint8Array(
      await sharp(readFileSync("test/fixtures/images/coffee.png")).resize(SIDE, SIDE, { fit: "fill" }).png().toBuffer(),
    );
    // Generate everywhere but a centred 32x32 square (black: kept).
    const gray = new Uint8Array(SIDE * SIDE).map((_, i) =>
      Math.abs((i % SIDE) - 31.5) < 16 && Math.abs(Math.floor(i / SIDE) - 31.5) < 16 ? 0 : 255,
    );
    const mask = new Uint8Array(
      await sharp(gray, { raw: { width: SIDE, height: SIDE, channels: 1 } })
        .png()
        .toBuffer(),
    );
    const output = await run(
      signing,
      spec(
        { embed: "c2pa+iptc", include_prompt: false },
        {
          output_format: "png",
          keypoints: { type: "inpaint_image" },
          inpaint: { image: local, mask: local, mask_from: "mask", grow: 0, feather: 4, strength: 0.5, keep_unmasked: true },
        },
      ),
      { ...NO_CONTROL_IMAGES, inpaintImage: product, inpaintMask: mask },
    );
    const composite = DIGITAL_SOURCE_TYPE.compositeWithTrainedAlgorithmicMedia;
    const reading = readC2pa(output.bytes, MIME.png, certificate.caPem);
    expect(reading.validation_state).toBe("Trusted");
    expect(actionsOf(reading)).toEqual([
      { action: "c2pa.created", digitalSourceType: composite, softwareAgent: SOFTWARE_AGENT },
      { action: "c2pa.edited", digitalSourceType: composite, softwareAgent: SOFTWARE_AGENT },
    ]);
    expect(readXmpWithExiftool(output.bytes, "png")["XMP-iptcExt:DigitalSourceType"]).toBe(composite);
    expect(output.report.digital_source_type).toBe(composite);
    expect(output.report.c2pa?.action).toBe("c2pa.edited");
  });
});

describe("a job with iptc", () => {
  it("has the XMP label, with the prompt it asked for, and no manifest, even where a signer is configured", async () => {
    const output = await run(signing, spec({ embed: "iptc", include_prompt: true }, { output_format: "jpeg" }));
    const xmp = readXmpWithExiftool(output.bytes, "jpg");
    expect(xmp["XMP-iptcExt:DigitalSourceType"]).toBe(DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia);
    expect(xmp["XMP-iptcExt:AIPromptInformation"]).toBe(PROMPT);
    expect(readC2pa(output.bytes, MIME.jpeg).manifest_store).toBeNull();
    expect(output.report).toEqual({
      embedded: "iptc",
      digital_source_type: DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia,
      c2pa: null,
      prompt_included: true,
    });
  });
});

describe("a job with none", () => {
  it("has neither XMP nor a manifest, and its report says so (no prompt, even when asked)", async () => {
    const output = await run(signing, spec({ embed: "none", include_prompt: true }));
    expect(readXmpWithExiftool(output.bytes, "webp")).not.toHaveProperty("XMP-iptcExt:DigitalSourceType");
    expect(readC2pa(output.bytes, MIME.webp).manifest_store).toBeNull();
    expect(output.report).toMatchObject({ embedded: "none", c2pa: null, prompt_included: false });
  });
});

describe("a GPU function without a certificate", () => {
  it("fails a c2pa+iptc job with provenance_unavailable, not retryable, rather than return it unsigned", async () => {
    const failure = await run(unsigned, spec({ embed: "c2pa+iptc", include_prompt: false })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(JobFailure);
    expect(failure).toMatchObject({ code: "provenance_unavailable", retryable: false });
  });

  it("still labels an iptc job", async () => {
    const output = await run(unsigned, spec({ embed: "iptc", include_prompt: false }));
    expect(readXmpWithExiftool(output.bytes, "webp")["XMP-iptcExt:DigitalSourceType"]).toBe(DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia);
  });
});
