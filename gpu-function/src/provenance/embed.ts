import type { ImageFormat } from "../runtime/image.js";
import { signWithC2pa } from "./c2pa-wasm.js";
import type { ProvenanceSigner } from "./signer.js";
import { buildXmpPacket, type DigitalSourceType } from "./xmp.js";
import { embedXmpInJpeg } from "./xmp-jpeg.js";
import { embedXmpInPng } from "./xmp-png.js";
import { embedXmpInWebp } from "./xmp-webp.js";

export type ProvenanceAction = "c2pa.created" | "c2pa.edited";

export interface ProvenanceOptions {
  digitalSourceType: DigitalSourceType;
  softwareAgent: { name: string; version: string };
  bundleId: string;
  jobId: string;
  /** c2pa.created for a generated image; c2pa.edited for an inpaint job that keeps the product photo's pixels. */
  action: ProvenanceAction;
  /** The prompt, written to XMP only when the job asks for it (provenance.include_prompt). */
  includePrompt?: string | undefined;
  /** The operator's signer for a C2PA manifest, or null for XMP only (provenance "iptc"). */
  c2pa: ProvenanceSigner | null;
}

const MIME_TYPE: Record<ImageFormat, string> = { png: "image/png", jpeg: "image/jpeg", webp: "image/webp" };

const XMP_WRITERS: Record<ImageFormat, (bytes: Uint8Array, xmp: string) => Uint8Array> = {
  png: embedXmpInPng,
  jpeg: embedXmpInJpeg,
  webp: embedXmpInWebp,
};

/**
 * The C2PA manifest definition (c2pa-rs ManifestDefinition JSON): one actions assertion whose actions carry the IPTC
 * digital source type and the software agent (C2PA 2.1 §18.4, "Actions"); no ingredients, since the reference photos
 * are personal data; c2pa-rs adds the hash binding (c2pa.hash.data, or c2pa.hash.boxes) when it signs.
 *
 * c2pa-rs refuses to sign when the first action is not c2pa.created or c2pa.opened ("first action must be created or
 * opened") and refuses c2pa.opened without an ingredient ("opened, placed and removed items must have ingredient(s)
 * parameters"). An edit with no ingredient is therefore c2pa.created followed by c2pa.edited, both with the composite
 * digital source type.
 */
export function manifestDefinition(options: ProvenanceOptions, format: ImageFormat): object {
  const agent = { name: options.softwareAgent.name, version: options.softwareAgent.version };
  const action = (name: ProvenanceAction): object => ({
    action: name,
    digitalSourceType: options.digitalSourceType,
    softwareAgent: agent,
  });
  const actions = options.action === "c2pa.created" ? [action("c2pa.created")] : [action("c2pa.created"), action("c2pa.edited")];
  return {
    claim_generator_info: [agent],
    format: MIME_TYPE[format],
    assertions: [{ label: "c2pa.actions", data: { actions } }],
  };
}

/**
 * Labels an encoded output: XMP first, then (with a signer) the C2PA manifest, whose hash binding then covers the
 * XMP too. Writing XMP after signing would change hashed bytes and break the binding.
 */
export async function embedProvenance(bytes: Uint8Array, format: ImageFormat, options: ProvenanceOptions): Promise<Uint8Array> {
  const xmp = buildXmpPacket(options);
  const withXmp = XMP_WRITERS[format](bytes, xmp);
  if (options.c2pa === null) return withXmp;
  const signer = options.c2pa;
  return signWithC2pa(
    manifestDefinition(options, format),
    { alg: signer.alg, reserveSize: signer.reserveSize, sign: (claim) => signer.sign(claim) },
    MIME_TYPE[format],
    withXmp,
  );
}
