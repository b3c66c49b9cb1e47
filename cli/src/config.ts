import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "./exit-codes.js";

export const DEFAULT_BASE_URL = "http://127.0.0.1:8787";
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface CliConfig {
  baseUrl: string;
  apiKey: string | undefined;
  /** where the key came from, for error messages */
  keySource: string;
}

/** Flags win over the environment, which wins over the local stack's dev key. */
export function resolveConfig(
  flags: { "base-url"?: string; "api-key"?: string },
  env: Record<string, string | undefined>,
  cwd = process.cwd(),
): CliConfig {
  const baseUrl = flags["base-url"] ?? env.ECOMID_BASE_URL ?? DEFAULT_BASE_URL;
  if (!/^https?:\/\//.test(baseUrl)) throw new UsageError(`--base-url must start with http:// or https://, got "${baseUrl}"`);
  if (flags["api-key"]) return { baseUrl, apiKey: flags["api-key"], keySource: "--api-key" };
  if (env.ECOMID_API_KEY) return { baseUrl, apiKey: env.ECOMID_API_KEY, keySource: "ECOMID_API_KEY" };
  for (const file of [join(cwd, ".state", "dev-key.txt"), join(REPO_ROOT, ".state", "dev-key.txt")]) {
    if (existsSync(file)) return { baseUrl, apiKey: readFileSync(file, "utf8").trim(), keySource: file };
  }
  return { baseUrl, apiKey: undefined, keySource: "none" };
}

export function requireKey(config: CliConfig): string {
  if (!config.apiKey)
    throw new UsageError("no API key: pass --api-key, set ECOMID_API_KEY, or run `npm start` (it writes .state/dev-key.txt)");
  return config.apiKey;
}
