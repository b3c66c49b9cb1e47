import { existsSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";

/** Local secrets for `wrangler dev` (never committed; production uses `wrangler secret put`). */
export function ensureDevVars(): void {
  if (existsSync(".dev.vars")) return;
  writeFileSync(".dev.vars", `SIGNING_SECRET=${randomBytes(32).toString("hex")}\nGPU_DISPATCH_TOKEN=${randomBytes(24).toString("hex")}\n`);
}
