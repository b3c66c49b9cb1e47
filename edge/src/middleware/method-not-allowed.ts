import type { Hono } from "hono";
import type { AppEnv } from "../env.js";

/** A route's path as Hono writes it, as segment matchers: a literal, `:param` (one segment), or `*` (the rest). */
type Pattern = string[];

function matches(pattern: Pattern, segments: string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p === "*") return true;
    const s = segments[i];
    if (s === undefined || (p.startsWith(":") ? s === "" : p !== s)) return false;
  }
  return pattern.length === segments.length;
}

/**
 * The methods a path is served with, from the app's own routes (so it cannot drift from
 * them): for a known path asked with another method the app answers 405 with `Allow`
 * (RFC 9110 15.5.6) instead of 404. HEAD is served wherever GET is, OPTIONS everywhere.
 */
export function allowedMethods(app: Hono<AppEnv>): (path: string) => string[] {
  let routes: Array<{ method: string; pattern: Pattern }> | null = null;
  return (path) => {
    // Middleware is registered as ALL; only real handlers say what a path serves.
    routes ??= app.routes.filter((r) => r.method !== "ALL").map((r) => ({ method: r.method, pattern: r.path.split("/") }));
    const segments = path.split("/");
    const methods = new Set(routes.filter((r) => matches(r.pattern, segments)).map((r) => r.method));
    if (!methods.size) return [];
    if (methods.has("GET")) methods.add("HEAD");
    methods.add("OPTIONS");
    return [...methods].sort();
  };
}
