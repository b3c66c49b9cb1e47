// Hand-written: hono/request-id echoes any [\w=-] id, however short, and drops dotted ones; this echoes exactly [A-Za-z0-9._-]{8,64}.
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env.js";
import { newId } from "../lib/ids.js";

const SAFE_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** Takes a well-formed X-Request-Id from the client or makes one; every response carries it. */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async function requestIdMiddleware(c, next) {
    const given = c.req.header("x-request-id");
    const id = given && SAFE_ID.test(given) ? given : newId("req");
    c.set("requestId", id);
    await next();
    c.res.headers.set("x-request-id", id);
  };
}
