// Hand-written: hono/body-limit buffers a chunked body up to the limit before auth and reads "12abc" as 12; this judges the declared size.
import type { MiddlewareHandler } from "hono";
import { API_LIMITS } from "@ecomid/shared/api";
import type { AppEnv } from "../env.js";
import { AppError } from "../errors.js";

/** The largest body any route takes: a multipart job with its images inline (an upload is smaller). */
export const MAX_REQUEST_BYTES = Math.max(API_LIMITS.maxMultipartBytes, API_LIMITS.maxImageBytes);

/**
 * The outermost size gate, before authentication and before any route reads a byte:
 * a declared Content-Length over the largest body any route accepts is refused with
 * 413, and a malformed one with 400. Each route's own, tighter limit (and the count
 * of a chunked body while it streams) is lib/parse.ts readBody's job.
 */
export function bodyLimit(maxBytes = MAX_REQUEST_BYTES): MiddlewareHandler<AppEnv> {
  return async function bodyLimitMiddleware(c, next) {
    const declared = c.req.header("content-length");
    if (declared !== undefined) {
      if (!/^\d{1,16}$/.test(declared.trim())) throw new AppError("invalid_request", "the Content-Length header is not a number");
      if (Number(declared) > maxBytes) {
        throw new AppError("payload_too_large", `the body is ${declared} bytes; no request may exceed ${maxBytes}`, {
          headers: { connection: "close" },
        });
      }
    }
    await next();
  };
}
