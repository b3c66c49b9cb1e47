import { hmacSha256 } from "@ecomid/shared/crypto";
import { base64Url } from "../lib/ids.js";

/**
 * The per-attempt callback secret, derived rather than stored: HMAC of the job and
 * attempt under the edge's signing key. A redelivered dispatch gets the same secret,
 * dispatching costs no storage write, and the worker can check a callback's signature
 * before it touches the job's Durable Object.
 */
export async function callbackSecret(signingSecret: string, jobId: string, attempt: number): Promise<string> {
  return base64Url(await hmacSha256(signingSecret, `callback-secret\n${jobId}\n${attempt}`));
}
