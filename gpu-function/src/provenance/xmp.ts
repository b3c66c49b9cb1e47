/**
 * The XMP packet every output carries (issue 15 point 1): the IPTC digital source type, the generator, the bundle
 * and the job. Nothing about the person or the prompt unless the job asked for the prompt.
 */

/** IPTC NewsCodes digital source types (https://cv.iptc.org/newscodes/digitalsourcetype/). */
export const DIGITAL_SOURCE_TYPE = {
  /** Made by a trained model from a prompt and reference images: every job that keeps no input pixels. */
  trainedAlgorithmicMedia: "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
  /** Real pixels (the product photo an inpaint job keeps) composited with generated ones. */
  compositeWithTrainedAlgorithmicMedia: "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia",
} as const;
export type DigitalSourceType = (typeof DIGITAL_SOURCE_TYPE)[keyof typeof DIGITAL_SOURCE_TYPE];

/**
 * Namespace of this API's own properties (bundle id, job id): no IPTC or Dublin Core property names a model bundle
 * or a job. exiftool reads properties of a namespace it does not know under their own names (XMP-ecomid:BundleId).
 */
export const ECOMID_XMP_NAMESPACE = "https://docs.ecomid.dev/ns/xmp/1.0/";

export interface XmpFields {
  digitalSourceType: DigitalSourceType;
  softwareAgent: { name: string; version: string };
  bundleId: string;
  jobId: string;
  /** Written only when the job asks for it (provenance.include_prompt). */
  includePrompt?: string | undefined;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * A complete XMP packet (ISO 16684-1 / XMP Specification Part 1 §7.3) with a closing `end="w"` trailer.
 * Iptc4xmpExt:AISystemUsed / AISystemVersionUsed / AIPromptInformation are the IPTC Photo Metadata 2025.1 AI
 * properties (https://iptc.org/std/photometadata/specification/IPTC-PhotoMetadata#ai-system-used); xmp:CreatorTool
 * carries the same name and version for readers that predate them.
 */
export function buildXmpPacket(fields: XmpFields): string {
  const { name, version } = fields.softwareAgent;
  const properties = [
    `<Iptc4xmpExt:DigitalSourceType>${escapeXml(fields.digitalSourceType)}</Iptc4xmpExt:DigitalSourceType>`,
    `<Iptc4xmpExt:AISystemUsed>${escapeXml(name)}</Iptc4xmpExt:AISystemUsed>`,
    `<Iptc4xmpExt:AISystemVersionUsed>${escapeXml(version)}</Iptc4xmpExt:AISystemVersionUsed>`,
    `<xmp:CreatorTool>${escapeXml(`${name} ${version}`)}</xmp:CreatorTool>`,
    `<ecomid:BundleId>${escapeXml(fields.bundleId)}</ecomid:BundleId>`,
    `<ecomid:JobId>${escapeXml(fields.jobId)}</ecomid:JobId>`,
  ];
  if (fields.includePrompt !== undefined) {
    properties.push(`<Iptc4xmpExt:AIPromptInformation>${escapeXml(fields.includePrompt)}</Iptc4xmpExt:AIPromptInformation>`);
  }
  return [
    `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>`,
    `<x:xmpmeta xmlns:x="adobe:ns:meta/">`,
    `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">`,
    `<rdf:Description rdf:about=""`,
    ` xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"`,
    ` xmlns:xmp="http://ns.adobe.com/xap/1.0/"`,
    ` xmlns:ecomid="${ECOMID_XMP_NAMESPACE}">`,
    ...properties,
    `</rdf:Description>`,
    `</rdf:RDF>`,
    `</x:xmpmeta>`,
    `<?xpacket end="w"?>`,
  ].join("\n");
}
