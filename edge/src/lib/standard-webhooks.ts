import { base64 } from "./ids.js";
import { hmacSha256, webhookSecretBytes } from "@ecomid/shared/crypto";

/**
 * Standard Webhooks signing: `webhook-signature: v1,<base64 HMAC-SHA256>` over
 * `${id}.${timestamp}.${body}`, keyed with the base64 part of a `whsec_` secret.
 * Several space-separated signatures are sent while a rotated secret is still valid.
 */
export function secretKeyBytes(secret: string): Uint8Array {
  const bytes = webhookSecretBytes(secret);
  // The edge signs only with secrets it made (newWebhookSecret): one that does not decode is a bug.
  if (!bytes) throw new Error("a stored webhook secret is not whsec_<base64>");
  return bytes;
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
