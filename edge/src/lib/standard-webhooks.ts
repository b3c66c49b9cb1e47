import { base64 } from "./ids.js";
import { hmacSha256 } from "./crypto.js";

/**
 * Standard Webhooks signing: `webhook-signature: v1,<base64 HMAC-SHA256>` over
 * `${id}.${timestamp}.${body}`, keyed with the base64 part of a `whsec_` secret.
 * Several space-separated signatures are sent while a rotated secret is still valid.
 */
export function secretKeyBytes(secret: string): Uint8Array {
  const b64 = secret.startsWith("whsec_") ? secret.slice(6) : secret;
  const bin = atob(b64);
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}

export function newWebhookSecret(): string {
  return `whsec_${base64(crypto.getRandomValues(new Uint8Array(32)))}`;
}

export async function signWebhook(secrets: string[], id: string, timestampSeconds: number, body: string): Promise<string> {
  const sigs = await Promise.all(
    secrets.map(async (s) => `v1,${base64(await hmacSha256(secretKeyBytes(s), `${id}.${timestampSeconds}.${body}`))}`),
  );
  return sigs.join(" ");
}

/** Receiver side (used by tests and the SDK): constant-time check with a timestamp tolerance. */
export async function verifyWebhook(
  secret: string,
  headers: { id: string | null; timestamp: string | null; signature: string | null },
  body: string,
  toleranceSeconds = 300,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<boolean> {
  const ts = Number(headers.timestamp);
  if (!headers.id || !Number.isInteger(ts) || !headers.signature) return false;
  if (Math.abs(nowSeconds - ts) > toleranceSeconds) return false;
  const expected = (await signWebhook([secret], headers.id, ts, body)).slice(3);
  return headers.signature.split(" ").some((sig) => {
    const [version, value] = sig.split(",", 2);
    if (version !== "v1" || !value || value.length !== expected.length) return false;
    let diff = 0;
    for (let i = 0; i < value.length; i++) diff |= value.charCodeAt(i) ^ expected.charCodeAt(i);
    return diff === 0;
  });
}
