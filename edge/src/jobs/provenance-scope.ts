import { UNLABELLED_OUTPUT_SCOPE, type ProvenanceRequest } from "@ecomid/shared/api";
import type { AuthContext } from "../env.js";
import { AppError } from "../errors.js";

/**
 * Unlabelled outputs are an operator's decision (issue 15): only a key granted the
 * provenance:none scope (or an admin key, which holds every scope, as authenticate() treats
 * it) may ask for them. Refused like any other missing scope: 403 forbidden, naming it.
 */
export function checkProvenanceScope(auth: AuthContext, provenance: ProvenanceRequest | undefined): void {
  if (provenance?.embed !== "none") return;
  if (auth.scopes.includes(UNLABELLED_OUTPUT_SCOPE) || auth.scopes.includes("admin")) return;
  throw new AppError("forbidden", `provenance.embed "none" needs a key with the ${UNLABELLED_OUTPUT_SCOPE} scope; an operator grants it`, {
    errors: [{ pointer: "/input/provenance/embed", code: "scope_missing", message: `this key lacks the ${UNLABELLED_OUTPUT_SCOPE} scope` }],
  });
}
