/**
 * Load on the whole local stack: wrangler dev (the real edge) and the real GPU function
 * on the tiny bundle. LOAD_CLIENTS (default 32) concurrent clients over LOAD_KEYS
 * (default 16) API keys of distinct owners, for LOAD_SECONDS (default 60): each submits
 * a job, polls it every 250 ms to a terminal state, and again. The edge keeps its
 * default limits (600 requests and 120 creations a minute per key, 8 jobs in flight);
 * a 429 is honoured by waiting its Retry-After. LOAD_GPU_CLIENTS (default 4) clients
 * always send a fresh seed (real GPU work); the others repeat their key's seed, which
 * the result cache answers (each key's job is run once before the clock starts).
 * LOAD_GPU_CLIENTS=32 shows what happens when the one GPU function cannot keep up. Prints throughput and p50/p99 per request kind, jobs
 * completed, and exits 1 on any error (an answer not 2xx nor an honoured 429, a job
 * that did not succeed, or one still open after the drain).
 */
import os from "node:os";
import { stopStack } from "../test/e2e/support/stack.js";
import { formatLoadReport, runLoad, startLoadStack } from "../test/reliability/load/load-driver.js";

const CLIENTS = Number(process.env.LOAD_CLIENTS ?? 32);
const KEYS = Number(process.env.LOAD_KEYS ?? 16);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const GPU_CLIENTS = Number(process.env.LOAD_GPU_CLIENTS ?? 4);

async function main(): Promise<void> {
  const load = await startLoadStack(KEYS);
  try {
    console.log(
      `settings: ${CLIENTS} clients (${GPU_CLIENTS} needing the GPU) over ${KEYS} keys, ${SECONDS} s, default edge limits; GPU function on the tiny bundle, 1 job at a time`,
    );
    console.log(
      `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
    );
    const report = await runLoad({
      baseUrl: load.stack.edgeUrl,
      keys: load.keys,
      uploads: load.uploads,
      clients: CLIENTS,
      seconds: SECONDS,
      gpuClients: GPU_CLIENTS,
    });
    console.log(formatLoadReport(report));
    if (report.errors.length || report.notTerminal.length) process.exitCode = 1;
  } finally {
    await stopStack(load.stack.stateDir);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
