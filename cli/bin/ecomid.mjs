#!/usr/bin/env node
// npm links a package's bin when it installs, before `npm run build` has made cli/dist, and skips a bin whose
// file is missing; so the bin is this committed launcher of the built CLI, not the built file itself.
import { existsSync } from "node:fs";

const built = new URL("../dist/ecomid.js", import.meta.url);
if (!existsSync(built)) {
  console.error("ecomid: the CLI is not built; run `npm run build` (or `npm run ecomid -- ...` to run its TypeScript source)");
  process.exit(1);
}
await import(built.href);
