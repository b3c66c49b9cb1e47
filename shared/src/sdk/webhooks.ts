import type { Job } from "../api/job.js";
import type { WebhookEventType as WebhookEventTypeSchema } from "../api/job-input.js";
import type { z } from "zod";
import { hmacSha256, timingSafeEqual, webhookSecretBytes } from "../crypto/index.js";

type WebhookEventType = z.infer<typeof WebhookEventTypeSchema>;

/** Thrown when a webhook's headers, timestamp or signature do not check out. */
export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError";
}

/** The body the API sends (README, "Webhooks"): output URLs in `job` are freshly signed. */
export interface WebhookEvent {
  type: WebhookEventType;
  timestamp: string;
  api_version: string;
  data: { sequence: number; job: Job };
}

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** How far webhook-timestamp may be from now, either way (default 300 s: replay protection). */
  toleranceSeconds?: number;
  /** Current time in ms, for tests. */
  now?: number;
}

/**
 * Verifies a Standard Webhooks delivery and returns the parsed JSON body.
 * The signature is HMAC-SHA256 over `${id}.${timestamp}.${body}` keyed with the
 * base64 part of the `whsec_` secret; webhook-signature may list several
 * space-separated `v1,<base64>` entries (during a secret rotation), any may match.
 * WebCrypto only, so it runs in Node, browsers and workers. Pass the raw body:
 * re-serialised JSON does not verify.
 *
 * @example
 * const event = await verifyWebhook(process.env.ECOMID_WEBHOOK_SECRET!, req.headers, rawBody);
 */
export async function verifyWebhook<T = WebhookEvent>(
  secret: string,
  headers: WebhookHeaders,
  body: string | Uint8Array,
  options: VerifyWebhookOptions = {},
): Promise<T> {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature");
  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError("webhook-timestamp is not a number of seconds");
  const tolerance = options.toleranceSeconds ?? 300;
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > tolerance)
    throw new WebhookVerificationError("webhook-timestamp is outside the tolerance");

  const bodyText = typeof body === "string" ? body : new TextDecoder().decode(body);
  const expected = await hmacSha256(secretBytes(secret), `${id}.${timestamp}.${bodyText}`);
  const matched = signatures
    .split(" ")
    .filter((entry) => entry.startsWith("v1,"))
    .some((entry) => {
      const given = decodeBase64(entry.slice(3));
      return given !== null && timingSafeEqual(given, expected);
    });
  if (!matched) throw new WebhookVerificationError("no webhook-signature matches");
  try {
    return JSON.parse(bodyText) as T;
  } catch {
    throw new WebhookVerificationError("the body is not JSON");
  }
}

function header(headers: WebhookHeaders, name: string): string | null {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name);
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value.join(" ") : (value ?? null);
}

function secretBytes(secret: string): Uint8Array {
  const bytes = webhookSecretBytes(secret);
  if (!bytes) throw new WebhookVerificationError("the secret is not whsec_<base64>");
  return bytes;
}

function decodeBase64(text: string): Uint8Array | null {
  try {
    const binary = atob(text);
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}
