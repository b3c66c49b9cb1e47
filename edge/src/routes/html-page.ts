import { newNonce, pageContentSecurityPolicy } from "../middleware/security-headers.js";

/** An HTML page whose inline script and style carry a fresh nonce that its CSP names. */
export function htmlPage(render: (nonce: string) => string): Response {
  const nonce = newNonce();
  return new Response(render(nonce), {
    headers: {
      "content-type": "text/html; charset=UTF-8",
      "content-security-policy": pageContentSecurityPolicy(nonce),
      "cache-control": "no-store",
    },
  });
}
