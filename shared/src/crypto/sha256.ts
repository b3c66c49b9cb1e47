import { toHex } from "./hex.js";

const encoder = new TextEncoder();

/** SHA-256 of bytes, or of a string's UTF-8, as lowercase hex. */
export async function sha256Hex(data: ArrayBuffer | Uint8Array | string): Promise<string> {
  const bytes = (typeof data === "string" ? encoder.encode(data) : data) as BufferSource;
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}
