import type { MiddlewareHandler } from "hono";
import { getConfig } from "../config/config.js";
import { publicRateLimiter } from "../durable-objects/public-rate-limiter.js";
import type { AppEnv } from "../env.js";
import { AppError } from "../errors.js";
import { clientKey } from "../lib/client-address.js";
import { rateLimitHeaders } from "./auth.js";

/**
 * The rate limit of routes that take no API key (health, models, OpenAPI, docs, the
 * playground page): exact token buckets per client address (lib/client-address.ts),
 * held in memory by a fixed set of limiter shards, with the same RateLimit headers as
 * keys. Where the deployment trusts no address header, every client shares one bucket.
 */
export function clientRateLimit(): MiddlewareHandler<AppEnv> {
  return async function clientRateLimitMiddleware(c, next) {
    const config = getConfig(c.env);
    const client = clientKey(c.req.raw.headers, config.clientAddressHeader);
    const result = await publicRateLimiter(c.env, client).admit(client, {
      name: "public",
      capacity: config.publicRequestsPerMinute,
      windowSeconds: 60,
    });
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
