import { AwsClient } from "aws4fetch";
import type { AppBindings } from "../env.js";
import { hmacSha256, timingSafeEqual, toHex } from "@ecomid/shared/crypto";

/**
 * Expiring HMAC-signed URLs for R2 objects, served by this worker under /files/.
 * A PUT URL also pins the content type and the largest body it accepts.
 * When R2 S3 credentials are configured, GET URLs are S3-presigned instead,
 * so downloads go straight to R2.
 */
export type FileMethod = "GET" | "PUT";

export interface FileGrant {
  method: FileMethod;
  key: string;
  expiresAt: number; // unix seconds
  maxBytes?: number;
  contentType?: string;
}

function canonical(g: FileGrant): string {
  return [g.method, g.key, g.expiresAt, g.maxBytes ?? "", g.contentType ?? ""].join("\n");
}

export async function signFileUrl(baseUrl: string, secret: string, grant: FileGrant): Promise<string> {
  const url = new URL(`${baseUrl}/files/${grant.key.split("/").map(encodeURIComponent).join("/")}`);
  url.searchParams.set("method", grant.method);
  url.searchParams.set("exp", String(grant.expiresAt));
  if (grant.maxBytes !== undefined) url.searchParams.set("max", String(grant.maxBytes));
  if (grant.contentType !== undefined) url.searchParams.set("ct", grant.contentType);
  url.searchParams.set("sig", toHex(await hmacSha256(secret, canonical(grant))));
  return url.toString();
}

const CONTROL = /[\u0000-\u001f\u007f]/;

/** The object key from a /files/ path; null for malformed percent-encoding or dot segments. */
function decodeKey(pathname: string): string | null {
  try {
    const segments = pathname
      .replace(/^\/files\//, "")
      .split("/")
      .map(decodeURIComponent);
    if (segments.some((s) => s === "" || s === "." || s === "..")) return null;
    return segments.join("/");
  } catch {
    return null;
  }
}

export type GrantCheck = { ok: true; grant: FileGrant } | { ok: false; reason: "invalid" | "expired" };

/** Checks a /files/ request against its signature; the method must match the one signed. */
export async function verifyFileUrl(url: URL, method: string, secret: string, nowSeconds = Date.now() / 1000): Promise<GrantCheck> {
  const key = decodeKey(url.pathname);
  const signedMethod = url.searchParams.get("method");
  const exp = Number(url.searchParams.get("exp"));
  const sig = url.searchParams.get("sig") ?? "";
  const max = url.searchParams.get("max");
  const ct = url.searchParams.get("ct");
  if ((signedMethod !== "GET" && signedMethod !== "PUT") || !Number.isInteger(exp) || !key) return { ok: false, reason: "invalid" };
  // The canonical string is newline-separated: a field with a control character could shift the others.
  if (CONTROL.test(key) || (ct !== null && CONTROL.test(ct))) return { ok: false, reason: "invalid" };
  const effective = method === "HEAD" ? "GET" : method;
  if (effective !== signedMethod) return { ok: false, reason: "invalid" };
  const grant: FileGrant = {
    method: signedMethod,
    key,
    expiresAt: exp,
    ...(max !== null ? { maxBytes: Number(max) } : {}),
    ...(ct !== null ? { contentType: ct } : {}),
  };
  const expected = toHex(await hmacSha256(secret, canonical(grant)));
  if (!timingSafeEqual(expected, sig)) return { ok: false, reason: "invalid" };
  if (nowSeconds > exp) return { ok: false, reason: "expired" };
  return { ok: true, grant };
}

/** A GET URL for clients: S3-presigned R2 when credentials exist, else worker-signed. */
export async function downloadUrl(env: AppBindings, baseUrl: string, secret: string, key: string, ttlSeconds: number) {
  const expiresAt = Math.floor(Date.now() / 1000) + ttlSeconds;
  if (env.R2_ACCESS_KEY_ID && env.R2_SECRET_ACCESS_KEY && env.R2_ACCOUNT_ID && env.R2_BUCKET) {
    return { url: await presignR2Get(env, key, ttlSeconds), expiresAt };
  }
  return { url: await signFileUrl(baseUrl, secret, { method: "GET", key, expiresAt }), expiresAt };
}

export async function presignR2Get(env: AppBindings, key: string, ttlSeconds: number): Promise<string> {
  const client = new AwsClient({
    accessKeyId: env.R2_ACCESS_KEY_ID!,
    secretAccessKey: env.R2_SECRET_ACCESS_KEY!,
    service: "s3",
    region: "auto",
  });
  const url = new URL(`https://${env.R2_ACCOUNT_ID}.r2.cloudflarestorage.com/${env.R2_BUCKET}/${key}`);
  url.searchParams.set("X-Amz-Expires", String(ttlSeconds));
  const signed = await client.sign(new Request(url, { method: "GET" }), { aws: { signQuery: true } });
  return signed.url;
}
