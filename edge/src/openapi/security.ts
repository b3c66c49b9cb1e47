import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Scope } from "@ecomid/shared/api";
import type { AppEnv } from "../env.js";
import { authenticate } from "../middleware/auth.js";

const SECURITY_SCHEMES = {
  bearerAuth: {
    type: "http",
    scheme: "bearer",
    description: "an API key (ek_live_... or ek_test_...) with the scope the operation needs: jobs:read or jobs:write",
  },
  adminAuth: { type: "http", scheme: "bearer", description: "an API key with the admin scope (an operator's, not a customer's)" },
} as const;

export function registerSecuritySchemes(app: OpenAPIHono<AppEnv>): void {
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) app.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
}

/**
 * A route that takes an API key of `scope`: the security scheme the document states and
 * the check that applies it, from the one scope, so they cannot disagree. `creates`
 * marks routes that also spend the create bucket.
 */
export function requiresKey(scope: Scope, options: { creates?: boolean } = {}) {
  const scheme: keyof typeof SECURITY_SCHEMES = scope === "admin" ? "adminAuth" : "bearerAuth";
  return { security: [{ [scheme]: [] }], middleware: authenticate(scope, options) };
}
