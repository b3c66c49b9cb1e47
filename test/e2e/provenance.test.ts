import { describe, expect, it } from "vitest";
import { readC2pa, readXmpWithExiftool } from "../../gpu-function/src/provenance/test-support/independent-readers.js";
import { api, createJob, image, stack, tinyJob, waitForStatus } from "./support/api.js";

/**
 * Issue 15 from the outside: an output of the local stack, downloaded as a customer downloads it (the job's signed
 * URL, no key), carries Content Credentials signed with the stack's throwaway development certificate and the IPTC
 * digital source type, read by the C2PA reference reader and exiftool; and the job says what its outputs carry.
 */
describe("an output from the local stack", () => {
  it("is labelled AI-generated: a C2PA manifest Valid, Trusted under the development CA, and the IPTC type in XMP", async () => {
    // A prompt no other test uses, so the result comes from this job's own run, not the cache.
    const created = await createJob(tinyJob({ prompt: "a provenance e2e portrait", seed: 15 }), image("astronaut.png"));
    const job = await waitForStatus(created.id, 120_000);
    expect(job.status, JSON.stringify(job.error)).toBe("succeeded");

    const redirect = await api(`/v1/jobs/${created.id}/outputs/0`);
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get("location");
    if (!location) throw new Error("the output redirect has no Location");
    const download = await fetch(location); // the signed URL is the credential
    expect(download.status).toBe(200);
    const bytes = new Uint8Array(await download.arrayBuffer());
    const contentType = download.headers.get("content-type") ?? "";
    expect(contentType).toBe("image/webp");

    expect(readC2pa(bytes, contentType).validation_state).toBe("Valid");
    const trusted = readC2pa(bytes, contentType, stack().c2paTrustAnchorPem);
    expect(trusted.validation_state).toBe("Trusted");
    const actions = trusted.active_manifest?.assertions.find((a) => a.label.startsWith("c2pa.actions"))?.data as
      { actions: { action: string; digitalSourceType: string }[] } | undefined;
    expect(actions?.actions.map((a) => [a.action, a.digitalSourceType])).toEqual([
      ["c2pa.created", "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"],
    ]);

    const xmp = readXmpWithExiftool(bytes, "webp");
    expect(xmp["XMP-iptcExt:DigitalSourceType"]).toBe("http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia");
    expect(xmp["XMP-ecomid:JobId"]).toBe(created.id);

    // What the job object (and so its webhooks) says was embedded matches what the readers found.
    expect(job.provenance).toMatchObject({
      embedded: "c2pa+iptc",
      digital_source_type: "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
      c2pa: { action: "c2pa.created", development_certificate: true },
      prompt_included: false,
    });
  });
});
