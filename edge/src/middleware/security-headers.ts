import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env.js";

/** Nothing may be loaded, framed or submitted: the policy for every response that is not one of our pages. */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The policy for our own HTML pages: only their nonce-tagged inline script and
 * style run, the API is called on this origin, and images may be this origin's files,
 * data:/blob: previews or presigned R2 (https) URLs. No CDN is ever needed.
 */
export function pageContentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "img-src 'self' data: blob: https:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** A fresh nonce per page view (128 random bits, base64). */
export function newNonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
}

/**
 * Headers on every response: no MIME sniffing, no framing, no Referer (signed URLs
 * carry their signature in the query string), HSTS when served over https, and the
 * locked-down CSP unless a page set its own.
 */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async function securityHeadersMiddleware(c, next) {
    await next();
    const h = c.res.headers;
    h.set("x-content-type-options", "nosniff");
    h.set("x-frame-options", "DENY");
    h.set("referrer-policy", "no-referrer");
    h.set("cross-origin-opener-policy", "same-origin");
    if (!h.has("content-security-policy")) h.set("content-security-policy", API_CONTENT_SECURITY_POLICY);
    if (new URL(c.req.url).protocol === "https:") h.set("strict-transport-security", "max-age=31536000; includeSubDomains");
  };
}
