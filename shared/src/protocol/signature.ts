/**
 * HMAC-SHA256 signatures for GPU callbacks, with the per-attempt secret.
 * Header: `ecomid-signature: t=<unix seconds>,v1=<hex>` over `${t}.${jobId}.${attempt}.${body}`;
 * binding the job and attempt stops a signature being replayed onto another job.
 * WebCrypto only, so the same code runs in workerd and Node.
 */
export const SIGNATURE_HEADER = "ecomid-signature";
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function signCallback(secret: string, jobId: string, attempt: number, body: string, nowSeconds = Math.floor(Date.now() / 1000)) {
  return `t=${nowSeconds},v1=${await hmacHex(secret, `${nowSeconds}.${jobId}.${attempt}.${body}`)}`;
}

export type SignatureCheck = "ok" | "invalid" | "expired";

export async function verifyCallback(
  secret: string,
  jobId: string,
  attempt: number,
  body: string,
  header: string | null,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<SignatureCheck> {
  const parts = Object.fromEntries((header ?? "").split(",").map((p) => p.split("=", 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || typeof parts.v1 !== "string") return "invalid";
  const expected = await hmacHex(secret, `${t}.${jobId}.${attempt}.${body}`);
  if (!timingSafeEqualHex(expected, parts.v1)) return "invalid";
  if (Math.abs(nowSeconds - t) > SIGNATURE_TOLERANCE_SECONDS) return "expired";
  return "ok";
}

export function timingSafeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
