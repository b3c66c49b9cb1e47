/**
 * `npm run bench:edge`: starts the worker in wrangler dev (workerd, local bindings)
 * and drives it from this process with many concurrent keep-alive clients:
 * a bare hello route (the baseline, same worker), job-status reads and job
 * submissions. Prints requests/s, p50 and p99 for each and the ratios to the baseline.
 * A stand-in GPU pool in this process passes its health checks and accepts every dispatch (202), so the queue
 * consumer does its real work (signing URLs, the POST, recording the lease).
 * Any request that does not get the scenario's expected status fails the run (exit 1);
 * failures are printed by status and problem code.
 *   BENCH_SECONDS (default 10) per scenario, BENCH_CONCURRENCY (default 32).
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { createLocalKey } from "./keys.js";
import { ensureDevVars } from "./lib/dev-vars.js";
import { ErrorTally } from "./lib/error-tally.js";
import { applyLocalMigrations, WRANGLER_OFFLINE_ENV } from "./lib/local-d1.js";
import { wranglerDevArgs } from "./lib/wrangler-dev.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const PORT = Number(process.env.BENCH_PORT ?? 8797);
const BASE = `http://127.0.0.1:${PORT}`;
// Local state on tmpfs by default: the simulator's storage commits are local fsyncs,
// which say nothing about Cloudflare's storage; BENCH_STATE=.state/bench measures on disk.
const STATE = process.env.BENCH_STATE ?? (existsSync("/dev/shm") ? `/dev/shm/ecomid-bench-${process.pid}` : ".state/bench");
/** The worker's output, kept after the run (the state on tmpfs is not): the place to read why a request failed. */
const WORKER_LOG = ".state/bench-edge-worker.log";

interface Result {
  name: string;
  requests: number;
  errors: ErrorTally;
  rps: number;
  p50: number;
  p99: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function drive(name: string, makeRequest: (i: number) => Promise<Response>, expectStatus: number): Promise<Result> {
  const run = async (seconds: number, record: boolean) => {
    const latencies: number[] = [];
    const errors = new ErrorTally();
    let counter = 0;
    const until = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < until) {
          const t0 = performance.now();
          try {
            const res = await makeRequest(counter++);
            const body = await res.text();
            if (res.status !== expectStatus) errors.recordResponse(res.status, body);
          } catch (e) {
            errors.recordNetworkError(e);
          }
          if (record) latencies.push(performance.now() - t0);
        }
      }),
    );
    return { latencies, errors };
  };
  // The warm-up's failures count too: a run with any failed request is a failed run.
  const warmUp = await run(2, false);
  const { latencies, errors } = await run(SECONDS, true);
  errors.merge(warmUp.errors);
  latencies.sort((a, b) => a - b);
  return {
    name,
    requests: latencies.length,
    errors,
    rps: latencies.length / SECONDS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

async function waitForHealth(): Promise<void> {
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`${BASE}/health`)).ok) return;
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("the worker did not start");
}

async function main(): Promise<void> {
  rmSync(STATE, { recursive: true, force: true });
  ensureDevVars();
  applyLocalMigrations(STATE);
  const { key } = await createLocalKey("bench", ["jobs:read", "jobs:write"], "bench", STATE);
  const unlimited = "1000000000";
  const pool = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.method === "GET" && req.url === "/health")
        res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok","in_flight":0,"capacity":1000}');
      else res.writeHead(req.method === "POST" ? 202 : 404).end();
    });
  }).listen(0, "127.0.0.1");
  await new Promise((r) => pool.once("listening", r));
  const poolUrl = `http://127.0.0.1:${(pool.address() as { port: number }).port}`;
  mkdirSync(".state", { recursive: true });
  const workerLog = openSync(WORKER_LOG, "w");
  const worker = spawn(
    "npx",
    [
      "wrangler",
      ...wranglerDevArgs({
        port: PORT,
        persistTo: STATE,
        vars: {
          PUBLIC_BASE_URL: BASE,
          RATE_LIMIT_REQUESTS_PER_MINUTE: unlimited,
          RATE_LIMIT_CREATES_PER_MINUTE: unlimited,
          MAX_JOBS_IN_FLIGHT: unlimited,
          GPU_POOLS: JSON.stringify({ "ecomid-tiny": [poolUrl] }),
        },
        extra: ["--log-level", "error"],
      }),
    ],
    // Own process group, so stopping it stops wrangler's workerd children too.
    { env: { ...process.env, ...WRANGLER_OFFLINE_ENV }, stdio: ["ignore", workerLog, workerLog], detached: true },
  );
  try {
    await waitForHealth();
    const auth = { authorization: `Bearer ${key}` };
    const image = readFileSync("test/fixtures/images/astronaut.png");
    const upload = (await (
      await fetch(`${BASE}/v1/uploads`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ content_type: "image/png", bytes: image.byteLength }),
      })
    ).json()) as { id: string; upload_url: string };
    await fetch(upload.upload_url, { method: "PUT", headers: { "content-type": "image/png" }, body: image });
    const submit = (seed: number) =>
      fetch(`${BASE}/v1/jobs`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({
          model: "ecomid-tiny",
          input: { reference_images: [{ upload_id: upload.id }], prompt: "a studio portrait", seed },
        }),
      });
    const first = (await (await submit(0)).json()) as { id: string };

    const results = [
      await drive("hello (baseline)", () => fetch(`${BASE}/hello`), 200),
      await drive("job status read", () => fetch(`${BASE}/v1/jobs/${first.id}`, { headers: auth }), 200),
      await drive("job submission", (i) => submit(i + 1), 201),
    ];
    const [hello, status, submission] = results as [Result, Result, Result];
    console.log(
      `\nEdge benchmark: wrangler dev (workerd, local bindings), ${CONCURRENCY} concurrent keep-alive clients, ${SECONDS} s per scenario`,
    );
    console.log(`local state: ${STATE}`);
    console.log(
      `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}\n`,
    );
    console.log("scenario               requests   errors      req/s    p50 ms    p99 ms");
    for (const r of results) {
      console.log(
        `${r.name.padEnd(22)} ${String(r.requests).padStart(8)} ${String(r.errors.total).padStart(8)} ${r.rps.toFixed(0).padStart(10)} ${r.p50.toFixed(2).padStart(9)} ${r.p99.toFixed(2).padStart(9)}`,
      );
    }
    const statusRatio = status.rps / hello.rps;
    const submitRatio = submission.rps / hello.rps;
    const p99Ratio = submission.p99 / hello.p99;
    console.log(
      `\nstatus reads / baseline throughput: ${statusRatio.toFixed(2)} (target >= 0.50) ${statusRatio >= 0.5 ? "met" : "NOT met"}`,
    );
    console.log(`submissions / baseline throughput:  ${submitRatio.toFixed(2)} (target >= 0.20) ${submitRatio >= 0.2 ? "met" : "NOT met"}`);
    console.log(`submission p99 / baseline p99:      ${p99Ratio.toFixed(2)} (target <= 5.00) ${p99Ratio <= 5 ? "met" : "NOT met"}`);
    const failed = results.filter((r) => r.errors.total > 0);
    for (const r of failed)
      console.log(
        `\nERRORS in ${r.name} (warm-up included):\n${r.errors
          .lines()
          .map((l) => `  ${l}`)
          .join("\n")}`,
      );
    if (failed.length) {
      console.log(
        `\nFAILED RUN: ${failed.reduce((n, r) => n + r.errors.total, 0)} requests did not get their expected status (see the worker's log: ${WORKER_LOG})`,
      );
      process.exitCode = 1;
    } else {
      console.log("\nerrors: none");
    }
  } finally {
    if (worker.pid) process.kill(-worker.pid, "SIGTERM");
    pool.close();
    if (STATE.startsWith("/dev/shm/")) setTimeout(() => rmSync(STATE, { recursive: true, force: true }), 1000);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
