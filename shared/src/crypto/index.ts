/** The one implementation of the hashes, MACs and comparisons every part uses: WebCrypto only, so it runs in workers, Node 20 and browsers. */
export { hmacSha256 } from "./hmac-sha256.js";
export { sha256Hex } from "./sha256.js";
export { timingSafeEqual } from "./timing-safe-equal.js";
export { toHex } from "./hex.js";
export { webhookSecretBytes } from "./webhook-secret.js";
