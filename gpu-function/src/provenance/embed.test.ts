import { beforeAll, describe, expect, it } from "vitest";
import { decodeImage, encodeImage, type ImageFormat, type RgbImage } from "../runtime/image.js";
import { makeDevelopmentCertificate, type DevelopmentCertificate } from "./development-certificate.js";
import { embedProvenance, type ProvenanceOptions } from "./embed.js";
import { loadSigner, type ProvenanceSigner } from "./signer.js";
import { changeOnePixelByte } from "./test-support/change-one-pixel-byte.js";
import { readC2pa, readXmpWithExiftool, type C2paReading } from "./test-support/independent-readers.js";
import { DIGITAL_SOURCE_TYPE } from "./xmp.js";

/**
 * Every claim is checked by readers that did not write the file: c2pa-python (the C2PA reference reader) for the
 * manifest, exiftool for the XMP. A throwaway CA and leaf are made with openssl for each run; no key is committed.
 */
const FORMATS: readonly ImageFormat[] = ["png", "jpeg", "webp"];
const MIME: Record<ImageFormat, string> = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" };
const AGENT = { name: "EcomID API test", version: "9.8.7" };

/** A 64x48 image whose every pixel differs from its neighbours, so a changed byte is a changed pixel. */
function testImage(): RgbImage {
  const width = 64;
  const height = 48;
  const data = new Uint8Array(width * height * 3);
  for (let index = 0; index < data.length; index++) data[index] = (index * 37 + (index >> 7) * 11) & 0xff;
  return { width, height, data };
}

function options(overrides: Partial<ProvenanceOptions>): ProvenanceOptions {
  return {
    digitalSourceType: DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia,
    softwareAgent: AGENT,
    bundleId: "ecomid-tiny@2026-12-01",
    jobId: "job_01JTESTPROVENANCE",
    action: "c2pa.created",
    c2pa: null,
    ...overrides,
  };
}

function actionsOf(reading: C2paReading): { action: string; digitalSourceType?: string; softwareAgent?: unknown }[] {
  const assertion = reading.active_manifest?.assertions.find((entry) => entry.label.startsWith("c2pa.actions"));
  if (assertion === undefined) throw new Error("no actions assertion in the active manifest");
  return (assertion.data as { actions: { action: string; digitalSourceType?: string; softwareAgent?: unknown }[] }).actions;
}

const codes = (list: { code: string }[] | undefined): string[] => (list ?? []).map((status) => status.code);

let certificate: DevelopmentCertificate;
let signer: ProvenanceSigner;
const inputs = new Map<ImageFormat, Uint8Array>();
function input(format: ImageFormat): Uint8Array {
  const bytes = inputs.get(format);
  if (bytes === undefined) throw new Error(`no ${format} input was encoded`);
  return bytes;
}

beforeAll(async () => {
  certificate = makeDevelopmentCertificate("es256");
  signer = loadSigner(certificate);
  for (const format of FORMATS) inputs.set(format, await encodeImage(testImage(), format));
});

describe.each(FORMATS)("%s output with c2pa+iptc", (format) => {
  let signed: Uint8Array;
  beforeAll(async () => {
    signed = await embedProvenance(input(format), format, options({ c2pa: signer }));
  });

  it("carries the digital source type, generator, bundle id and job id in XMP that exiftool reads, and no prompt", () => {
    const xmp = readXmpWithExiftool(signed, format);
    expect(xmp["XMP-iptcExt:DigitalSourceType"]).toBe(DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia);
    expect(xmp["XMP-iptcExt:AISystemUsed"]).toBe(AGENT.name);
    expect(xmp["XMP-iptcExt:AISystemVersionUsed"]).toBe(AGENT.version);
    expect(xmp["XMP-ecomid:BundleId"]).toBe("ecomid-tiny@2026-12-01");
    expect(xmp["XMP-ecomid:JobId"]).toBe("job_01JTESTPROVENANCE");
    expect(xmp).not.toHaveProperty("XMP-iptcExt:AIPromptInformation");
  });

  it("has a manifest the C2PA reader validates, trusted with the test CA as anchor", () => {
    const untrusted = readC2pa(signed, MIME[format]);
    expect(untrusted.validation_state).toBe("Valid");
    const trusted = readC2pa(signed, MIME[format], certificate.caPem);
    expect(trusted.validation_state).toBe("Trusted");
    const results = trusted.validation_results?.activeManifest;
    expect(codes(results?.failure)).toEqual([]);
    expect(codes(results?.success)).toContain("assertion.dataHash.match");
    expect(codes(results?.success)).toContain("signingCredential.trusted");
  });

  it("states c2pa.created with the digital source type and software agent, and names no ingredient", () => {
    const reading = readC2pa(signed, MIME[format]);
    expect(actionsOf(reading)).toEqual([
      { action: "c2pa.created", digitalSourceType: DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia, softwareAgent: AGENT },
    ]);
    const manifests = Object.values(reading.manifest_store?.manifests ?? {});
    expect(manifests).toHaveLength(1);
    for (const manifest of manifests) expect(manifest.ingredients ?? []).toEqual([]);
  });

  it("breaks the hash binding when one pixel's byte changes", () => {
    const reading = readC2pa(changeOnePixelByte(signed, format), MIME[format]);
    expect(reading.validation_state).toBe("Invalid");
    expect(codes(reading.validation_results?.activeManifest?.failure)).toContain("assertion.dataHash.mismatch");
  });

  it("leaves the pixels as they were", async () => {
    const before = await decodeImage(input(format));
    const after = await decodeImage(signed);
    expect(after.width).toBe(before.width);
    expect(Buffer.from(after.data).equals(Buffer.from(before.data))).toBe(true);
  });
});

describe.each(FORMATS)("%s output with iptc only", (format) => {
  it("carries the XMP and no C2PA manifest", async () => {
    const labelled = await embedProvenance(input(format), format, options({ c2pa: null }));
    expect(readXmpWithExiftool(labelled, format)["XMP-iptcExt:DigitalSourceType"]).toBe(DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia);
    expect(readC2pa(labelled, MIME[format]).manifest_store).toBeNull();
  });
});

describe("an inpaint output", () => {
  it("is c2pa.created then c2pa.edited, both composite, with the same type in XMP", async () => {
    const composite = DIGITAL_SOURCE_TYPE.compositeWithTrainedAlgorithmicMedia;
    const signed = await embedProvenance(
      input("png"),
      "png",
      options({ c2pa: signer, action: "c2pa.edited", digitalSourceType: composite }),
    );
    const reading = readC2pa(signed, "image/png", certificate.caPem);
    expect(reading.validation_state).toBe("Trusted");
    expect(actionsOf(reading)).toEqual([
      { action: "c2pa.created", digitalSourceType: composite, softwareAgent: AGENT },
      { action: "c2pa.edited", digitalSourceType: composite, softwareAgent: AGENT },
    ]);
    expect(readXmpWithExiftool(signed, "png")["XMP-iptcExt:DigitalSourceType"]).toBe(composite);
  });
});

describe("a job that asks for its prompt", () => {
  it("has the prompt in XMP, escaped", async () => {
    const prompt = `a portrait <studio light> & "soft" shadows`;
    const labelled = await embedProvenance(input("jpeg"), "jpeg", options({ includePrompt: prompt }));
    expect(readXmpWithExiftool(labelled, "jpeg")["XMP-iptcExt:AIPromptInformation"]).toBe(prompt);
  });
});

describe("a PS256 (RSA) operator certificate", () => {
  it("signs a manifest the reader trusts", async () => {
    const rsa = makeDevelopmentCertificate("ps256");
    const signed = await embedProvenance(input("webp"), "webp", options({ c2pa: loadSigner(rsa) }));
    expect(readC2pa(signed, "image/webp", rsa.caPem).validation_state).toBe("Trusted");
    // The ES256 run's CA did not issue this chain: the same reader must then not call it trusted.
    expect(readC2pa(signed, "image/webp", certificate.caPem).validation_state).toBe("Valid");
  });
});

describe("a chain of the leaf certificate alone", () => {
  it("is carried as a single x5chain byte string the reader accepts and trusts with the CA as anchor", async () => {
    const leafOnly = certificate.certChainPem.slice(0, certificate.certChainPem.indexOf("-----END CERTIFICATE-----") + 25);
    const signed = await embedProvenance(input("png"), "png", options({ c2pa: loadSigner({ ...certificate, certChainPem: leafOnly }) }));
    expect(readC2pa(signed, "image/png", certificate.caPem).validation_state).toBe("Trusted");
  });
});

describe("several outputs signed at once (a job's batch)", () => {
  it("each gets its own valid manifest and its own job id", async () => {
    const jobIds = ["job_batch_0", "job_batch_1", "job_batch_2", "job_batch_3"];
    const signed = await Promise.all(
      jobIds.map((jobId, index) => {
        const format = FORMATS[index % FORMATS.length] ?? "png";
        return embedProvenance(input(format), format, options({ c2pa: signer, jobId })).then((bytes) => ({ format, bytes }));
      }),
    );
    signed.forEach(({ format, bytes }, index) => {
      expect(readC2pa(bytes, MIME[format], certificate.caPem).validation_state).toBe("Trusted");
      expect(readXmpWithExiftool(bytes, format)["XMP-ecomid:JobId"]).toBe(jobIds[index]);
    });
  });
});
