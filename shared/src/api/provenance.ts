import { z } from "zod";

/**
 * What an output is labelled with (issue 15). The IPTC codes are the NewsCodes vocabulary's
 * (http://cv.iptc.org/newscodes/digitalsourcetype/); the C2PA actions are the specification's
 * standard actions (c2pa.org, "Actions"): created for a new image, edited for one that keeps real pixels.
 */
export const ProvenanceEmbed = z.enum(["c2pa+iptc", "iptc", "none"]).meta({
  id: "ProvenanceEmbed",
  description:
    'What each output carries. "c2pa+iptc": XMP metadata (the IPTC digital source type, the generator\'s name and version, the model bundle id and the job id) and a C2PA manifest signed by the operator\'s certificate, with a c2pa.created action (c2pa.edited for an inpaint job that keeps real pixels), the same digital source type, the software agent and a hash binding to the image bytes. "iptc": the XMP only. "none": nothing, only for keys with the provenance:none scope. No prompt unless include_prompt, and never an input image or the owner id.',
});
export type ProvenanceEmbed = z.infer<typeof ProvenanceEmbed>;

export const DEFAULT_PROVENANCE_EMBED: ProvenanceEmbed = "c2pa+iptc";
/** The scope a key needs to ask for unlabelled outputs: an operator grants it (POST /v1/admin/keys). */
export const UNLABELLED_OUTPUT_SCOPE = "provenance:none";

export const ProvenanceRequest = z
  .object({
    embed: ProvenanceEmbed.default(DEFAULT_PROVENANCE_EMBED),
    include_prompt: z
      .boolean()
      .default(false)
      .describe(
        "also write the prompt into the XMP (Iptc4xmpExt:AIPromptInformation); off by default, as a prompt may describe the person",
      ),
  })
  .strict()
  .meta({ id: "ProvenanceRequest", description: "How the outputs are labelled as AI-generated; the whole object may be left out." });
export type ProvenanceRequest = z.infer<typeof ProvenanceRequest>;

export const DIGITAL_SOURCE_TYPES = {
  trainedAlgorithmicMedia: "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
  compositeWithTrainedAlgorithmicMedia: "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia",
} as const;

export const DigitalSourceType = z
  .enum([DIGITAL_SOURCE_TYPES.trainedAlgorithmicMedia, DIGITAL_SOURCE_TYPES.compositeWithTrainedAlgorithmicMedia])
  .meta({
    id: "DigitalSourceType",
    description:
      "compositeWithTrainedAlgorithmicMedia for an inpaint job with keep_unmasked (real pixels kept), else trainedAlgorithmicMedia",
  });

export const C2paClaim = z
  .object({
    signer: z.string().describe("the common name (CN) of the signing certificate's subject: the operator"),
    alg: z.enum(["es256", "ps256"]),
    action: z.enum(["c2pa.created", "c2pa.edited"]),
    development_certificate: z
      .boolean()
      .describe("true when signed by the throwaway certificate a local `npm start` makes: no trust list holds it"),
  })
  .meta({ id: "C2paClaim" });

/** What was embedded in every output of a job (all are labelled alike), as the GPU function reported it. */
export const JobProvenance = z
  .object({
    embedded: ProvenanceEmbed,
    digital_source_type: DigitalSourceType,
    c2pa: C2paClaim.nullable().describe("the C2PA manifest's claim; null unless embedded is c2pa+iptc"),
    prompt_included: z.boolean(),
  })
  .meta({
    id: "JobProvenance",
    description: "What the outputs carry. A job served from the result cache has the earlier job's outputs, labelled with that job's id.",
  });
export type JobProvenance = z.infer<typeof JobProvenance>;

/** Offered by every model: /v1/models says so. */
export const ModelProvenance = z
  .object({
    default: ProvenanceEmbed,
    embeds: z.array(ProvenanceEmbed).describe('the modes a job may ask for; "none" needs the provenance:none scope'),
  })
  .meta({ id: "ModelProvenance" });
export const MODEL_PROVENANCE: z.infer<typeof ModelProvenance> = {
  default: DEFAULT_PROVENANCE_EMBED,
  embeds: [...ProvenanceEmbed.options],
};
