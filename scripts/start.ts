/**
 * `npm start`: the whole local stack on 127.0.0.1. The edge worker runs in
 * `wrangler dev` (workerd with local D1, KV, R2, Durable Objects and Queues, state
 * under .state/); the GPU function joins once gpu-function/ has its server, signing its outputs' Content Credentials
 * with a throwaway development certificate made at each start (.state/development-c2pa/, never trusted by readers).
 * Prints the API base URL, a development key and a curl example; Ctrl-C stops all.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { ensureDevVars } from "./lib/dev-vars.js";
import { writeDevelopmentC2pa } from "./lib/development-c2pa.js";
import { createLocalKey } from "./keys.js";
import { applyLocalMigrations, localD1, WRANGLER_OFFLINE_ENV } from "./lib/local-d1.js";
import { wranglerDevArgs } from "./lib/wrangler-dev.js";

const EDGE_PORT = Number(process.env.EDGE_PORT ?? 8787);
const GPU_PORT = Number(process.env.GPU_PORT ?? 8790);
const BASE = `http://127.0.0.1:${EDGE_PORT}`;
const children: ChildProcess[] = [];

async function ensureDevKey(): Promise<string> {
  mkdirSync(".state", { recursive: true });
  const file = ".state/dev-key.txt";
  if (existsSync(file)) {
    const key = readFileSync(file, "utf8").trim();
    const prefix = key.slice(0, 12);
    const alive = localD1<{ n: number }>(
      `SELECT COUNT(*) AS n FROM api_keys WHERE prefix = '${prefix.replace(/'/g, "")}' AND revoked_at IS NULL`,
    )[0]?.n;
    if (alive) return key;
  }
  const { key } = await createLocalKey("dev", ["jobs:read", "jobs:write", "admin"], "npm start");
  writeFileSync(file, key + "\n");
  return key;
}

function devVar(name: string): string {
  const line = readFileSync(".dev.vars", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}=`));
  if (!line) throw new Error(`.dev.vars has no ${name}; delete it and run npm start again`);
  return line.slice(name.length + 1).trim();
}

async function waitForHealth(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not become healthy in ${timeoutMs / 1000} s`);
}

function start(name: string, command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  // Each child leads its own process group, so stopping it also stops what it started (workerd).
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit"], detached: true });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping the stack`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code = 0): void {
  if (stopping) return;
  stopping = true;
  for (const c of children) {
    if (c.pid && c.exitCode === null) {
      try {
        process.kill(-c.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  }
  setTimeout(() => process.exit(code), 500).unref();
}

async function main(): Promise<void> {
  process.on("SIGINT", () => stop(0));
  process.on("SIGTERM", () => stop(0));
  ensureDevVars();
  applyLocalMigrations();
  const key = await ensureDevKey();
  // Offer only the model this stack can run: the tiny fixture, or the real one when a bundle is given.
  const model = process.env.ECOMID_BUNDLE ? "ecomid-sdxl" : "ecomid-tiny";
  start(
    "edge",
    "npx",
    [
      "wrangler",
      ...wranglerDevArgs({
        port: EDGE_PORT,
        persistTo: ".state/wrangler",
        vars: { PUBLIC_BASE_URL: BASE, GPU_POOLS: JSON.stringify({ [model]: [`http://127.0.0.1:${GPU_PORT}`] }), ENABLED_MODELS: model },
      }),
    ],
    WRANGLER_OFFLINE_ENV,
  );
  const gpuEntry = "gpu-function/src/server/main.ts";
  const hasGpu = existsSync(gpuEntry);
  const c2pa = hasGpu ? writeDevelopmentC2pa(".state/development-c2pa") : null;
  if (c2pa) {
    start("gpu-function", "node", ["--import", "tsx", gpuEntry], {
      PORT: String(GPU_PORT),
      BUNDLE_DIR: process.env.ECOMID_BUNDLE ?? "bundles/tiny",
      GPU_DISPATCH_TOKEN: devVar("GPU_DISPATCH_TOKEN"),
      ...c2pa.env,
    });
  }
  await waitForHealth(`${BASE}/health`, 60_000);
  if (hasGpu) await waitForHealth(`http://127.0.0.1:${GPU_PORT}/health`, 180_000);
  console.log(`
EcomID local stack is up.
  API base URL   ${BASE}/v1        (docs: ${BASE}/docs, OpenAPI: ${BASE}/v1/openapi.json)
  Playground     ${BASE}/          (paste the key below)
  API key        ${key}
  GPU function   ${hasGpu ? `http://127.0.0.1:${GPU_PORT}, bundle ${process.env.ECOMID_BUNDLE ?? "bundles/tiny (a test fixture: it generates noise)"}` : "not part of this build: jobs stay queued, waiting for capacity"}${
    c2pa
      ? `
  C2PA signer    a throwaway DEVELOPMENT certificate, made for this run: readers show outputs as signed but untrusted
                 (trust anchor to check them locally: ${c2pa.caFile})`
      : ""
  }

Try it:
  curl -s ${BASE}/v1/jobs -H "Authorization: Bearer ${key}" \\
    -F 'request={"model":"ecomid-tiny","input":{"reference_images":[{"file":"face"}],"prompt":"a studio portrait","width":64,"height":64,"steps":4,"seed":1}}' \\
    -F face=@test/fixtures/images/astronaut.png

Ctrl-C stops everything.`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  stop(1);
});
