import { execFileSync } from "node:child_process";

export const STATE_DIR = ".state/wrangler";

/** Runs SQL against the local D1 database that `wrangler dev --persist-to .state/wrangler` uses. */
export function localD1<T = Record<string, unknown>>(sql: string, persistTo = STATE_DIR): T[] {
  const out = execFileSync(
    "npx",
    ["wrangler", "d1", "execute", "ecomid", "--local", "--persist-to", persistTo, "--json", "--command", sql],
    { encoding: "utf8", env: { ...process.env, ...WRANGLER_OFFLINE_ENV }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const parsed = JSON.parse(out) as Array<{ results: T[] }>;
  return parsed.flatMap((r) => r.results);
}

export function applyLocalMigrations(persistTo = STATE_DIR): void {
  execFileSync("npx", ["wrangler", "d1", "migrations", "apply", "ecomid", "--local", "--persist-to", persistTo], {
    env: { ...process.env, ...WRANGLER_OFFLINE_ENV, CI: "true" },
    stdio: ["ignore", "pipe", "inherit"],
  });
}

/** With these three, wrangler makes no request beyond 127.0.0.1 (toolchain notes). */
export const WRANGLER_OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

export const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;
