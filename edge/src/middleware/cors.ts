// Hand-written: hono/cors takes every OPTIONS for a preflight (a plain one must get Allow) and answers an unlisted origin 204, not 403.
import type { MiddlewareHandler } from "hono";
import { getConfig } from "../config/config.js";
import type { AppEnv } from "../env.js";
import { AppError } from "../errors.js";

const ALLOWED_METHODS = "GET, HEAD, POST, PUT, DELETE, OPTIONS";
const ALLOWED_HEADERS = "authorization, content-type, idempotency-key, last-event-id, x-request-id";
// Response headers a browser client needs to read: rate limits, retry hints, request ids, replays.
const EXPOSED_HEADERS = "ratelimit, ratelimit-policy, retry-after, x-request-id, idempotent-replayed, location";
const PREFLIGHT_MAX_AGE_SECONDS = "600";

/**
 * CORS for browser clients. The API authenticates with bearer keys, never cookies,
 * so credentials are never allowed and "*" is a safe default; a configured list of
 * origins is honoured exactly (the origin is echoed only when listed, with Vary: Origin).
 */
export function cors(): MiddlewareHandler<AppEnv> {
  return async function corsMiddleware(c, next) {
    const allowed = getConfig(c.env).corsAllowedOrigins;
    const origin = c.req.header("origin");
    const allowOrigin = allowed === "*" ? "*" : origin !== undefined && allowed.includes(origin) ? origin : null;
    const isPreflight = c.req.method === "OPTIONS" && c.req.header("access-control-request-method") !== undefined;
    if (isPreflight) {
      if (allowOrigin === null)
        throw new AppError("forbidden", "this origin may not call the API from a browser", { headers: { vary: "Origin" } });
      const headers = new Headers({
        "access-control-allow-origin": allowOrigin,
        "access-control-allow-methods": ALLOWED_METHODS,
        "access-control-allow-headers": ALLOWED_HEADERS,
        "access-control-max-age": PREFLIGHT_MAX_AGE_SECONDS,
      });
      if (allowed !== "*") headers.set("vary", "Origin");
      return new Response(null, { status: 204, headers });
    }
    await next();
    if (allowed !== "*") c.res.headers.append("vary", "Origin");
    if (allowOrigin === null) return;
    c.res.headers.set("access-control-allow-origin", allowOrigin);
    c.res.headers.set("access-control-expose-headers", EXPOSED_HEADERS);
  };
}
