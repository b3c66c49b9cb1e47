import { DEFAULT_GPU_PROVENANCE, type GpuJobSpec, type GpuProvenanceReport } from "@ecomid/shared/protocol";
import { DIGITAL_SOURCE_TYPE, embedProvenance, type ProvenanceAction, type ProvenanceSigner } from "../provenance/index.js";
import type { ImageFormat } from "../runtime/image.js";
import { JobFailure } from "./job-failure.js";

/** What the GPU function labels outputs with, fixed at start: the operator's signer (if any) and this software. */
export interface OutputLabelling {
  /** null where no C2PA certificate is configured: c2pa+iptc jobs then fail with provenance_unavailable. */
  signer: ProvenanceSigner | null;
  /** The signer's certificate is a throwaway one (npm start, the e2e stack), which the report says. */
  developmentCertificate: boolean;
  softwareAgent: { name: string; version: string };
}

/** One job's labelling: what every output gets, and the report of it for the success callback. */
export interface JobLabeller {
  report: GpuProvenanceReport;
  label(bytes: Uint8Array, format: ImageFormat): Promise<Uint8Array>;
}

/** The leaf certificate's subject common name (node:crypto gives the subject as "CN=...\nO=..." lines). */
function commonName(subject: string): string {
  const line = subject.split("\n").find((l) => l.startsWith("CN="));
  return line ? line.slice("CN=".length) : subject;
}

/**
 * Decides, before any inference, how the job's outputs are labelled (issue 15's contract): an inpaint job that keeps
 * the product photo's own pixels is a composite of real and generated pixels, edited; every other job is generated
 * from scratch. Refuses a c2pa+iptc job where nothing can sign, rather than pass an unsigned output off as labelled.
 */
export function jobLabeller(spec: GpuJobSpec, labelling: OutputLabelling, bundleId: string, jobId: string): JobLabeller {
  const request = spec.provenance ?? DEFAULT_GPU_PROVENANCE;
  const signer = request.embed === "c2pa+iptc" ? labelling.signer : null;
  if (request.embed === "c2pa+iptc" && signer === null) {
    throw new JobFailure("provenance_unavailable", "this GPU function has no C2PA signing certificate configured", {
      hint: 'ask for "provenance": {"embed": "iptc"} to get the IPTC label without Content Credentials',
    });
  }
  const composite = spec.inpaint?.keep_unmasked === true;
  const digitalSourceType = composite
    ? DIGITAL_SOURCE_TYPE.compositeWithTrainedAlgorithmicMedia
    : DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia;
  const action: ProvenanceAction = composite ? "c2pa.edited" : "c2pa.created";
  const promptIncluded = request.embed !== "none" && request.include_prompt;
  const report: GpuProvenanceReport = {
    embedded: request.embed,
    digital_source_type: digitalSourceType,
    c2pa: signer && {
      signer: commonName(signer.subject),
      alg: signer.alg,
      action,
      development_certificate: labelling.developmentCertificate,
    },
    prompt_included: promptIncluded,
  };
  return {
    report,
    label: (bytes, format) =>
      request.embed === "none"
        ? Promise.resolve(bytes)
        : embedProvenance(bytes, format, {
            digitalSourceType,
            softwareAgent: labelling.softwareAgent,
            bundleId,
            jobId,
            action,
            includePrompt: promptIncluded ? spec.prompt : undefined,
            c2pa: signer,
          }),
  };
}
