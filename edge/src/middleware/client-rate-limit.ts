import type { MiddlewareHandler } from "hono";
import { getConfig } from "../config/config.js";
import type { AppEnv } from "../env.js";
import { AppError } from "../errors.js";
import { rateLimitHeaders } from "./auth.js";

/**
 * The rate limit of routes that take no API key (health, models, OpenAPI, docs, the
 * playground page): exact token buckets per client address, in the same KeyGuard
 * objects as keys (named apart), with the same RateLimit headers. Cloudflare sets
 * CF-Connecting-IP; locally every client shares one bucket.
 */
export function clientRateLimit(): MiddlewareHandler<AppEnv> {
  return async function clientRateLimitMiddleware(c, next) {
    const config = getConfig(c.env);
    const client = c.req.header("cf-connecting-ip") ?? "local";
    const guard = c.env.KEY_GUARDS.get(c.env.KEY_GUARDS.idFromName(`client:${client}`));
    const result = await guard.admit([{ name: "public", capacity: config.publicRequestsPerMinute, windowSeconds: 60 }]);
    // Nothing revokes an address's bucket today; KeyGuard's answer still has that case.
    if (result.revoked) throw new AppError("forbidden", "this client is blocked");
    const headers = rateLimitHeaders(result.buckets);
    if (!result.allowed) {
      throw new AppError("rate_limited", `rate limit reached; retry in ${result.retryAfterSeconds} s`, {
        headers: { ...headers, "retry-after": String(Math.max(1, result.retryAfterSeconds)) },
      });
    }
    await next();
    for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
  };
}
