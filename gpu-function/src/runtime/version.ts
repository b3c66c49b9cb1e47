import { readFileSync } from "node:fs";
import { layout } from "./layout.js";

/**
 * This software as the outputs' labels name it (XMP AISystemUsed/AISystemVersionUsed, the C2PA software agent): the
 * GPU function's package version, read from its package.json, which the image ships (infra/gpu-function/Dockerfile).
 */
export const SOFTWARE_AGENT: { name: string; version: string } = {
  name: "EcomID API",
  version: (JSON.parse(readFileSync(layout.packageJson, "utf8")) as { version: string }).version,
};
