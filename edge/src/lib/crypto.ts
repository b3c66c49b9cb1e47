/**
 * Kept only for edge/src/routes/ and edge/src/middleware/, which import from here while
 * they are rewritten: new code imports @ecomid/shared/crypto and ./canonical-json.js directly.
 * Delete this file once nothing imports it.
 */
export { sha256Hex } from "@ecomid/shared/crypto";
export { canonicalJson } from "./canonical-json.js";
