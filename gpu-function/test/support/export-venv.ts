import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";

/** The bundle exporter's Python (infra/export/.venv, made by infra/export/setup_venv.sh; `npm test` makes it first). */
export const EXPORT_PYTHON = resolve("infra/export/.venv/bin/python");

/** Runs `python -m <args>` in the exporter's venv; returns stdout. Throws with the way out when the venv is missing. */
export function runExporter(args: string[], timeoutMs: number): string {
  if (!existsSync(EXPORT_PYTHON)) {
    throw new Error(`${EXPORT_PYTHON} not found: run infra/export/setup_venv.sh (about 3 minutes) before this test`);
  }
  return execFileSync(EXPORT_PYTHON, ["-m", ...args], {
    cwd: "infra/export",
    encoding: "utf8",
    timeout: timeoutMs,
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 64 << 20,
  });
}
