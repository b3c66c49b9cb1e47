import type { MiddlewareHandler } from "hono";
import type { Scope } from "@ecomid/shared/api";
import { getConfig } from "../config/config.js";
import type { AppBindings, AppEnv, AuthContext } from "../env.js";
import { AppError } from "../errors.js";
import { sha256Hex } from "@ecomid/shared/crypto";
import type { BucketPolicy, BucketState } from "../durable-objects/key-guard.js";

export const KEY_PATTERN = /^ek_(live|test)_[A-Za-z0-9]{32}$/;

// Key records are immutable except for revocation, which KeyGuard checks on every
// request; caching the lookup per isolate saves a D1 query without delaying revocation.
const keyCache = new Map<string, { auth: AuthContext; at: number }>();
const KEY_CACHE_MS = 60_000;

async function lookupKey(env: AppBindings, token: string): Promise<AuthContext | null> {
  const hash = await sha256Hex(token);
  const hit = keyCache.get(hash);
  if (hit && Date.now() - hit.at < KEY_CACHE_MS) return hit.auth;
  const row = await env.DB.prepare(`SELECT id, owner_id, scopes, revoked_at FROM api_keys WHERE key_hash = ?`)
    .bind(hash)
    .first<{ id: string; owner_id: string; scopes: string; revoked_at: string | null }>();
  if (!row || row.revoked_at) return null;
  const auth: AuthContext = { keyId: row.id, ownerId: row.owner_id, scopes: JSON.parse(row.scopes) as Scope[] };
  if (keyCache.size > 10_000) keyCache.clear();
  keyCache.set(hash, { auth, at: Date.now() });
  return auth;
}

export function rateLimitHeaders(buckets: BucketState[]): Record<string, string> {
  return {
    "ratelimit-policy": buckets.map((b) => `"${b.name}";q=${b.capacity};w=${b.windowSeconds}`).join(", "),
    ratelimit: buckets.map((b) => `"${b.name}";r=${b.remaining};t=${b.resetSeconds}`).join(", "),
  };
}

/**
 * Bearer-key authentication, scope check and the exact per-key rate limit
 * (KeyGuard token buckets). `creates` marks routes that also spend the create bucket.
 */
export function authenticate(scope: Scope, options: { creates?: boolean } = {}): MiddlewareHandler<AppEnv> {
  return async function authenticateMiddleware(c, next) {
    const header = c.req.header("authorization") ?? "";
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!token)
      throw new AppError("unauthorized", "send your API key as `Authorization: Bearer ek_...`", {
        headers: { "www-authenticate": "Bearer" },
      });
    if (!KEY_PATTERN.test(token))
      throw new AppError("unauthorized", "that is not an EcomID API key", { headers: { "www-authenticate": "Bearer" } });
    const auth = await lookupKey(c.env, token);
    if (!auth) throw new AppError("unauthorized", "unknown or revoked API key", { headers: { "www-authenticate": "Bearer" } });
    const config = getConfig(c.env);
    const policies: BucketPolicy[] = [{ name: "default", capacity: config.requestsPerMinute, windowSeconds: 60 }];
    if (options.creates) policies.push({ name: "create", capacity: config.createsPerMinute, windowSeconds: 60 });
    const guard = c.env.KEY_GUARDS.get(c.env.KEY_GUARDS.idFromName(auth.keyId));
    const result = await guard.admit(policies);
    if (result.revoked) {
      keyCache.clear();
      throw new AppError("key_revoked", "this API key was revoked");
    }
    const headers = rateLimitHeaders(result.buckets);
    if (!result.allowed) {
      throw new AppError("rate_limited", `rate limit reached; retry in ${result.retryAfterSeconds} s`, {
        headers: { ...headers, "retry-after": String(Math.max(1, result.retryAfterSeconds)) },
      });
    }
    if (!auth.scopes.includes(scope) && !auth.scopes.includes("admin")) {
      throw new AppError("forbidden", `this key lacks the ${scope} scope`, { headers });
    }
    c.set("auth", auth);
    await next();
    for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
  };
}
