const encoder = new TextEncoder();

export async function sha256Hex(data: ArrayBuffer | Uint8Array | string): Promise<string> {
  const bytes = (typeof data === "string" ? encoder.encode(data) : data) as BufferSource;
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

// Imported HMAC keys by secret: every signed URL, callback secret and webhook uses one of a
// handful of secrets, and importing the key again for each signature is most of the cost.
const hmacKeys = new Map<string, Promise<CryptoKey>>();

export async function hmacSha256(secret: string | Uint8Array, message: string): Promise<Uint8Array> {
  const cacheKey = typeof secret === "string" ? `s:${secret}` : `b:${toHex(secret)}`;
  let key = hmacKeys.get(cacheKey);
  if (!key) {
    const keyBytes = (typeof secret === "string" ? encoder.encode(secret) : secret) as BufferSource;
    key = crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    if (hmacKeys.size > 100) hmacKeys.clear();
    hmacKeys.set(cacheKey, key);
  }
  return new Uint8Array(await crypto.subtle.sign("HMAC", await key, encoder.encode(message)));
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Key-independent canonical JSON (sorted keys), so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}
