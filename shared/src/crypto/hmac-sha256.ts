import { toHex } from "./hex.js";

const encoder = new TextEncoder();

/** Imported keys are reused: importing is most of the cost of a signature, and callers sign with a handful of secrets. */
const importedKeys = new Map<string, Promise<CryptoKey>>();
const MAX_CACHED_KEYS = 100;

function hmacKey(secret: string | Uint8Array): Promise<CryptoKey> {
  // Prefixed so a string secret and byte secret with the same spelling never share a key.
  const cacheKey = typeof secret === "string" ? `s:${secret}` : `b:${toHex(secret)}`;
  let key = importedKeys.get(cacheKey);
  if (!key) {
    const keyBytes = (typeof secret === "string" ? encoder.encode(secret) : secret) as BufferSource;
    key = crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    if (importedKeys.size >= MAX_CACHED_KEYS) importedKeys.clear();
    importedKeys.set(cacheKey, key);
  }
  return key;
}

/**
 * HMAC-SHA256 of a message's UTF-8 under a secret (a string is keyed by its UTF-8).
 *
 * @example
 * const mac = toHex(await hmacSha256("secret", "message"));
 */
export async function hmacSha256(secret: string | Uint8Array, message: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message)));
}
