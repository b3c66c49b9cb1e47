import { API_LIMITS } from "@ecomid/shared/api";
import { z } from "zod";
import type { AppContext } from "../env.js";
import { AppError } from "../errors.js";

const KEEP_MS = 24 * 3600 * 1000;
/** The Idempotency-Key header as the route documents it and this check applies it. */
export const IdempotencyKey = z
  .string()
  .min(1)
  .max(API_LIMITS.maxIdempotencyKeyChars)
  .regex(/^[\x21-\x7e]+$/);

/**
 * Idempotency-Key (IETF draft, Stripe semantics): the first request runs; a replay
 * with the same body gets the stored response with `Idempotent-Replayed: true`; the same
 * key while the first is running -> 409; with a different body -> 422. Kept 24 h.
 * A request that fails frees the key, so fixing the input and retrying works.
 */
/** `fingerprint` is computed only when the request carries a key. */
export async function withIdempotency(c: AppContext, fingerprint: () => Promise<string>, run: () => Promise<Response>): Promise<Response> {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return run();
  if (!IdempotencyKey.safeParse(key).success) {
    throw new AppError("invalid_request", `Idempotency-Key must be 1 to ${API_LIMITS.maxIdempotencyKeyChars} printable ASCII characters`);
  }
  const guard = c.env.KEY_GUARDS.get(c.env.KEY_GUARDS.idFromName(c.get("auth").keyId));
  const begin = await guard.beginIdempotent(key, await fingerprint(), KEEP_MS);
  if (begin.state === "in_flight")
    throw new AppError("idempotency_in_progress", "a request with this Idempotency-Key is still being processed", {
      headers: { "retry-after": "1" },
    });
  if (begin.state === "mismatch")
    throw new AppError("idempotency_key_reused", "this Idempotency-Key was used with a different request body");
  if (begin.state === "replay") {
    const headers = new Headers(begin.response.headers);
    headers.set("idempotent-replayed", "true");
    return new Response(begin.response.body, { status: begin.response.status, headers });
  }
  let response: Response;
  try {
    response = await run();
  } catch (e) {
    await guard.abandonIdempotent(key);
    throw e;
  }
  const body = await response.text();
  await guard.completeIdempotent(key, { status: response.status, headers: Object.fromEntries(response.headers), body });
  return new Response(body, { status: response.status, headers: response.headers });
}
