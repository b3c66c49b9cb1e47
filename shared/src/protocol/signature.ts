import { hmacSha256, timingSafeEqual, toHex } from "../crypto/index.js";

/**
 * HMAC-SHA256 signatures for GPU callbacks, with the per-attempt secret.
 * Header: `ecomid-signature: t=<unix seconds>,v1=<hex>` over `${t}.${jobId}.${attempt}.${body}`;
 * binding the job and attempt stops a signature being replayed onto another job.
 */
export const SIGNATURE_HEADER = "ecomid-signature";
export const SIGNATURE_TOLERANCE_SECONDS = 300;

async function hmacHex(secret: string, message: string): Promise<string> {
  return toHex(await hmacSha256(secret, message));
}

export async function signCallback(
  secret: string,
  jobId: string,
  attempt: number,
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
) {
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
  if (!timingSafeEqual(expected, parts.v1)) return "invalid";
  if (Math.abs(nowSeconds - t) > SIGNATURE_TOLERANCE_SECONDS) return "expired";
  return "ok";
}
