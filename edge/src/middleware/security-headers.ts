import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../env.js";

type SecureHeadersOptions = NonNullable<Parameters<typeof secureHeaders>[0]>;

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
 * carry their signature in the query string), and nothing may be loaded, framed or
 * submitted (the CSP), unless a page set its own: `overwrite: false` keeps what a route
 * set. hono/secure-headers' other defaults are off: Cross-Origin-Resource-Policy
 * same-origin would stop other sites showing the output images they were sent, and the
 * rest are headers this API never sent.
 */
const EVERY_RESPONSE: SecureHeadersOptions = {
  xContentTypeOptions: true,
  xFrameOptions: "DENY",
  referrerPolicy: "no-referrer",
  crossOriginOpenerPolicy: "same-origin",
  contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
  crossOriginResourcePolicy: false,
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
  overwrite: false,
};

const overHttp = secureHeaders({ ...EVERY_RESPONSE, strictTransportSecurity: false });
// HSTS only where the answer came over https: over plain http a browser ignores it, and local development is plain http.
const overHttps = secureHeaders({ ...EVERY_RESPONSE, strictTransportSecurity: "max-age=31536000; includeSubDomains" });

export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return (c, next) => (new URL(c.req.url).protocol === "https:" ? overHttps : overHttp)(c, next);
}
