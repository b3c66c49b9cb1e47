import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createLocalKey } from "../../../scripts/keys.js";
import { developmentC2pa, writeDevelopmentC2pa } from "../../../scripts/lib/development-c2pa.js";
import { applyLocalMigrations, WRANGLER_OFFLINE_ENV } from "../../../scripts/lib/local-d1.js";
import { freePort, waitForHealthy } from "./net.js";
import { startGroup, stopAll, type Started } from "./processes.js";
import { wranglerDevArgs } from "../../../scripts/lib/wrangler-dev.js";

/** What the tests need to reach the stack; plain JSON, handed from the global setup to every test file. */
export interface StackInfo {
  stateDir: string;
  edgeUrl: string;
  gpuUrl: string;
  gpuPort: number;
  apiKey: string;
  dispatchToken: string;
  edgePid: number;
  leaseSeconds: number;
  /** More GPU functions serving the same model, each a pool of its own (StackOptions.extraGpuPools). */
  extraGpus: ExtraGpu[];
  /** The throwaway development CA the GPU functions' C2PA certificate chains to (PEM): a reader's trust anchor. */
  c2paTrustAnchorPem: string;
}

/** A second (third, ...) GPU-function pool: its process is named `name` (log file, PID file). */
export interface ExtraGpu {
  name: string;
  url: string;
  port: number;
}

const ROOT = resolve(import.meta.dirname, "../../..");
/** Short, so the GPU-loss test does not wait long; the GPU function's heartbeat (1 s) keeps healthy jobs well inside it. */
const LEASE_SECONDS = 4;
const HEARTBEAT_SECONDS = 1;
const GPU_NAME = "gpu-function";
/** Loading and warming the tiny bundle takes ~20 s alone; on 2 busy cores with workerd starting beside it, more. */
const GPU_READY_TIMEOUT_MS = 150_000;
const EDGE_READY_TIMEOUT_MS = 90_000;

/** Where the stack keeps its throwaway C2PA certificate: made once by startStack, used by every GPU function it starts. */
const c2paDir = (stateDir: string) => join(stateDir, "development-c2pa");

/**
 * Starts a GPU-function process (its own process group) on `port`; resolves once its
 * model is loaded. `name` names its log and PID files (the stack's main one by default).
 * It signs Content Credentials with the stack's development certificate, as `npm start`'s GPU function does.
 */
export async function startGpuFunction(
  stateDir: string,
  port: number,
  dispatchToken: string,
  extraEnv: Record<string, string> = {},
  name = GPU_NAME,
): Promise<Started> {
  const gpu = startGroup(
    stateDir,
    name,
    process.execPath,
    ["--import", "tsx", "gpu-function/src/server/main.ts"],
    {
      PORT: String(port),
      HOST: "127.0.0.1",
      BUNDLE_DIR: join(ROOT, "bundles/tiny"),
      EXECUTION_PROVIDER: "cpu",
      GPU_DISPATCH_TOKEN: dispatchToken,
      HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS),
      ...developmentC2pa(c2paDir(stateDir)).env,
      ...extraEnv,
    },
    ROOT,
  );
  // The current process of that name, for a test that kills it (its successor overwrites this).
  writeFileSync(join(stateDir, `${name}.pid`), String(gpu.pid));
  await waitForHealthy(`http://127.0.0.1:${port}/health`, GPU_READY_TIMEOUT_MS, gpu.exited).catch((e: unknown) => {
    throw withLogTail(e, stateDir, name);
  });
  return gpu;
}

export const currentGpuPid = (stateDir: string, name = GPU_NAME) => Number(readFileSync(join(stateDir, `${name}.pid`), "utf8"));

/** What a suite may change about the stack it starts; the defaults are the e2e suite's. */
export interface StackOptions {
  /** Extra `--var`s for the edge (they win over the defaults below). */
  edgeVars?: Record<string, string>;
  /** Extra environment for the GPU-function processes. */
  gpuEnv?: Record<string, string>;
  /** How many more GPU functions to start, each listed as one more pool of the model (default 0). */
  extraGpuPools?: number;
}

function startEdge(
  stateDir: string,
  ports: { edge: number; inspector: number; gpus: number[] },
  secrets: { signing: string; dispatch: string },
  extraVars: Record<string, string> = {},
): Started {
  const base = `http://127.0.0.1:${ports.edge}`;
  const vars = {
    PUBLIC_BASE_URL: base,
    GPU_POOLS: JSON.stringify({ "ecomid-tiny": ports.gpus.map((port) => `http://127.0.0.1:${port}`) }),
    // --var beats .dev.vars, so a developer's local secrets never leak into the run.
    SIGNING_SECRET: secrets.signing,
    GPU_DISPATCH_TOKEN: secrets.dispatch,
    LEASE_SECONDS: String(LEASE_SECONDS),
    MAX_ATTEMPTS: "3",
    ALLOW_LOOPBACK_HTTP: "true",
    ...extraVars,
  };
  // The inspector would otherwise take 9229, which another stack on this machine may hold.
  const args = wranglerDevArgs({
    port: ports.edge,
    persistTo: join(stateDir, "wrangler"),
    vars,
    extra: ["--inspector-ip", "127.0.0.1", "--inspector-port", String(ports.inspector)],
  });
  return startGroup(stateDir, "edge", join(ROOT, "node_modules/.bin/wrangler"), args, WRANGLER_OFFLINE_ENV, ROOT);
}

/** The real edge (wrangler dev) and the real GPU function on free loopback ports, with fresh state and a key. */
export async function startStack(options: StackOptions = {}): Promise<StackInfo> {
  const stateDir = mkdtempSync(join(tmpdir(), "ecomid-e2e-"));
  try {
    const [edgePort, inspectorPort, gpuPort] = [await freePort(), await freePort(), await freePort()];
    const dispatchToken = randomBytes(24).toString("hex");
    const signing = randomBytes(32).toString("hex");
    const c2pa = writeDevelopmentC2pa(c2paDir(stateDir));
    // The GPU function loads its model (the slow part) while the database is prepared.
    const extraGpus: ExtraGpu[] = [];
    for (let i = 1; i <= (options.extraGpuPools ?? 0); i++) {
      const port = await freePort();
      extraGpus.push({ name: `${GPU_NAME}-${i + 1}`, url: `http://127.0.0.1:${port}`, port });
    }
    // Side by side: each loads its model while the database is prepared.
    const gpuReady = Promise.all([
      startGpuFunction(stateDir, gpuPort, dispatchToken, options.gpuEnv),
      ...extraGpus.map((g) => startGpuFunction(stateDir, g.port, dispatchToken, options.gpuEnv, g.name)),
    ]);
    gpuReady.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
    const persistTo = join(stateDir, "wrangler");
    applyLocalMigrations(persistTo);
    const { key } = await createLocalKey("e2e-owner", ["jobs:read", "jobs:write"], "e2e", persistTo);
    const edge = startEdge(
      stateDir,
      { edge: edgePort, inspector: inspectorPort, gpus: [gpuPort, ...extraGpus.map((g) => g.port)] },
      { signing, dispatch: dispatchToken },
      options.edgeVars,
    );
    const edgeUrl = `http://127.0.0.1:${edgePort}`;
    await waitForHealthy(`${edgeUrl}/health`, EDGE_READY_TIMEOUT_MS, edge.exited).catch((e: unknown) => {
      throw withLogTail(e, stateDir, "edge");
    });
    await gpuReady;
    return {
      stateDir,
      edgeUrl,
      gpuUrl: `http://127.0.0.1:${gpuPort}`,
      gpuPort,
      apiKey: key,
      dispatchToken,
      edgePid: edge.pid,
      leaseSeconds: LEASE_SECONDS,
      extraGpus,
      c2paTrustAnchorPem: readFileSync(c2pa.caFile, "utf8"),
    };
  } catch (e) {
    await stopStack(stateDir);
    throw e;
  }
}

/** Stops every process the stack (and its tests) started, then removes its state unless E2E_KEEP_STATE is set. */
export async function stopStack(stateDir: string): Promise<void> {
  await stopAll(stateDir);
  if (process.env.E2E_KEEP_STATE) console.log(`e2e: state and logs kept in ${stateDir}`);
  else rmSync(stateDir, { recursive: true, force: true });
}

function withLogTail(e: unknown, stateDir: string, name: string): Error {
  const file = join(stateDir, `${name}.log`);
  const tail = existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-30).join("\n") : "(no log)";
  return new Error(`${e instanceof Error ? e.message : String(e)}\n--- last lines of ${name}.log ---\n${tail}`);
}
