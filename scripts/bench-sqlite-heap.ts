/**
 * How many SQLite-backed Durable Objects the local runtime (wrangler dev, workerd) holds
 * open before SQLite runs out of heap: the cause of bench:edge's SQLITE_NOMEM errors on
 * fast machines. A probe worker (infra/bench/sqlite-heap-probe) touches new objects, 64
 * at a time, in a fresh workerd per mode: "none" (no storage), "handle" (takes
 * ctx.storage.sql), "read" (one read) and "tables" (a job object's creation). workerd
 * caps SQLite's heap for the whole process (512 MiB in 1.20260426,
 * src/workerd/util/sqlite.c++), opens the database of every object of a SQLite-backed
 * class it instantiates, whatever the object does, and keeps it open until the object is
 * evicted, 10 s after its last request.
 *   npx tsx scripts/bench-sqlite-heap.ts   (SQLITE_PROBE_OBJECTS, default 6000)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { WRANGLER_OFFLINE_ENV } from "./lib/local-d1.js";
import { waitUntilAnswering, wranglerDevArgs } from "./lib/wrangler-dev.js";

const OBJECTS = Number(process.env.SQLITE_PROBE_OBJECTS ?? 6000);
const PORT = Number(process.env.SQLITE_PROBE_PORT ?? 8796);
const WORKERD_SQLITE_HARD_HEAP_LIMIT = 512 * 1024 * 1024;

interface ProbeResult {
  mode: string;
  objects: number;
  touched: number;
  firstFailure: number | null;
  failures: Record<string, number>;
}

async function probe(mode: string): Promise<ProbeResult> {
  const state = mkdtempSync(join(os.tmpdir(), "sqlite-heap-probe-"));
  const worker = spawn(
    "npx",
    ["wrangler", ...wranglerDevArgs({ port: PORT, persistTo: state, extra: ["--config", "infra/bench/sqlite-heap-probe/wrangler.toml"] })],
    { env: { ...process.env, ...WRANGLER_OFFLINE_ENV }, stdio: "ignore", detached: true },
  );
  try {
    await waitUntilAnswering(`http://127.0.0.1:${PORT}/?objects=0&mode=none`, "the probe worker");
    return (await (await fetch(`http://127.0.0.1:${PORT}/?objects=${OBJECTS}&mode=${mode}`)).json()) as ProbeResult;
  } finally {
    if (worker.pid) process.kill(-worker.pid, "SIGTERM");
    await new Promise((r) => setTimeout(r, 1500));
    rmSync(state, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`SQLite heap of the local runtime: ${OBJECTS} new Durable Objects per mode, each mode in a fresh workerd`);
  console.log(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}\n`,
  );
  for (const mode of ["none", "handle", "read", "tables"]) {
    const r = await probe(mode);
    const open = r.firstFailure ?? r.touched;
    const perObject =
      r.firstFailure !== null
        ? `, about ${Math.round(WORKERD_SQLITE_HARD_HEAP_LIMIT / open / 1024)} KiB of SQLite heap each against the 512 MiB limit`
        : "";
    console.log(`${mode.padEnd(7)} touched ${r.touched} of ${r.objects}; first failure at object ${r.firstFailure ?? "none"}${perObject}`);
    for (const [what, n] of Object.entries(r.failures)) console.log(`        ${n} x ${what.slice(0, 120)}`);
  }
  console.log("\nThe same count for every mode means the cost is paid for each live object, whatever it does with storage.");
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
