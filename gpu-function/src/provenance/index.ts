/** The provenance library: IPTC/XMP labels and a C2PA manifest signed by the operator (issue 15). */
export { embedProvenance, manifestDefinition, type ProvenanceAction, type ProvenanceOptions } from "./embed.js";
export { loadSigner, type ProvenanceSigner, type SignerConfig, type SigningAlg } from "./signer.js";
export { DIGITAL_SOURCE_TYPE, ECOMID_XMP_NAMESPACE, type DigitalSourceType } from "./xmp.js";
export { ensureInitialised as preloadC2pa } from "./c2pa-wasm.js";
