/**
 * Peak memory of the worst multipart job the edge accepts: the largest body (32 MiB)
 * made of the largest parts (two 15 MiB images and the rest in a third). Runs the real
 * worker in wrangler dev (workerd, local bindings; state on tmpfs), resets the peak
 * resident set of the workerd processes before each request (/proc/PID/clear_refs) and
 * reads it after the 201 (VmHWM), so the figure is the request's own peak over the idle
 * process. A Worker in production has 128 MB per isolate.
 *   npx tsx scripts/bench-multipart-memory.ts   (MULTIPART_RUNS, default 5)
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { API_LIMITS } from "@ecomid/shared/api";
import { createLocalKey } from "./keys.js";
import { ensureDevVars } from "./lib/dev-vars.js";
import { applyLocalMigrations, WRANGLER_OFFLINE_ENV } from "./lib/local-d1.js";
import { waitUntilAnswering, wranglerDevArgs } from "./lib/wrangler-dev.js";

const RUNS = Number(process.env.MULTIPART_RUNS ?? 5);
const PORT = Number(process.env.MULTIPART_PORT ?? 8795);
const BASE = `http://127.0.0.1:${PORT}`;
const STATE = existsSync("/dev/shm") ? `/dev/shm/ecomid-multipart-${process.pid}` : ".state/multipart-bench";
const MiB = 1024 * 1024;

/** A PNG header (512x512) padded to `bytes`: the edge reads only the header. */
function paddedPng(bytes: number, salt: number): Uint8Array {
  const png = readFileSync("test/fixtures/images/astronaut.png");
  const out = new Uint8Array(bytes);
  out.set(png.subarray(0, 33)); // signature and IHDR
  out.set(new TextEncoder().encode(`salt ${salt}`), 40);
  return out;
}

/**
 * The largest multipart body a job may have, of the largest parts. `refusedAfterReading`
 * gives it a width the model refuses once the body is read: the same reading, no storing.
 */
function worstBody(salt: number, refusedAfterReading = false): { body: Uint8Array; type: string } {
  const boundary = "----worst-accepted";
  const request = JSON.stringify({
    model: "ecomid-tiny",
    input: {
      reference_images: [{ file: "a" }, { file: "b" }, { file: "c" }],
      prompt: "memory",
      seed: salt,
      ...(refusedAfterReading ? { width: 72 } : {}),
    },
  });
  const head = (name: string, file: boolean) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${file ? `; filename="${name}.png"\r\nContent-Type: image/png` : ""}\r\n\r\n`;
  const overhead = Buffer.byteLength(
    head("request", false) + request + "\r\n" + ["a", "b", "c"].map((n) => head(n, true) + "\r\n").join("") + `--${boundary}--\r\n`,
  );
  const sizes = [API_LIMITS.maxImageBytes, API_LIMITS.maxImageBytes];
  sizes.push(API_LIMITS.maxMultipartBytes - overhead - sizes[0]! - sizes[1]!);
  const pieces: Uint8Array[] = [new TextEncoder().encode(head("request", false) + request + "\r\n")];
  sizes.forEach((n, i) =>
    pieces.push(new TextEncoder().encode(head("abc"[i]!, true)), paddedPng(n, salt * 10 + i), new TextEncoder().encode("\r\n")),
  );
  pieces.push(new TextEncoder().encode(`--${boundary}--\r\n`));
  return { body: Buffer.concat(pieces), type: `multipart/form-data; boundary=${boundary}` };
}

const kib = (line: string | undefined) => Number(/(\d+) kB/.exec(line ?? "")?.[1] ?? NaN);
const status = (pid: number) => readFileSync(`/proc/${pid}/status`, "utf8").split("\n");
const rssKib = (pid: number) => kib(status(pid).find((l) => l.startsWith("VmRSS:")));
const peakKib = (pid: number) => kib(status(pid).find((l) => l.startsWith("VmHWM:")));

function workerdPids(groupId: number): number[] {
  const out = execFileSync("ps", ["-o", "pid=,comm=", "-g", String(groupId)], { encoding: "utf8" });
  return out.split("\n").flatMap((l) => (/^\s*(\d+)\s+workerd/.exec(l) ? [Number(/^\s*(\d+)/.exec(l)![1])] : []));
}

/** A small accepted job first, so the code is loaded and the objects exist before the clock of the peak starts. */
function smallBody(): { body: Uint8Array; type: string } {
  const boundary = "----small";
  const request = JSON.stringify({ model: "ecomid-tiny", input: { reference_images: [{ file: "a" }], prompt: "warm-up", seed: 0 } });
  const text = `--${boundary}\r\nContent-Disposition: form-data; name="request"\r\n\r\n${request}\r\n--${boundary}\r\nContent-Disposition: form-data; name="a"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`;
  return {
    body: Buffer.concat([Buffer.from(text), paddedPng(1000, 0), Buffer.from(`\r\n--${boundary}--\r\n`)]),
    type: `multipart/form-data; boundary=${boundary}`,
  };
}

/**
 * One measurement in a fresh workerd: freed memory stays resident in a process, so a
 * second request in the same process would reuse the first one's pages and look cheaper.
 */
async function measureOnce(key: string, run: number, refusedAfterReading: boolean): Promise<{ bytes: number; deltas: number[] }> {
  const worker = spawn(
    "npx",
    [
      "wrangler",
      ...wranglerDevArgs({
        port: PORT,
        persistTo: STATE,
        vars: { PUBLIC_BASE_URL: BASE, MAX_JOBS_IN_FLIGHT: "1000" },
        extra: ["--log-level", "error"],
      }),
    ],
    { env: { ...process.env, ...WRANGLER_OFFLINE_ENV }, stdio: "ignore", detached: true },
  );
  try {
    await waitUntilAnswering(`${BASE}/health`, "the worker");
    const pids = workerdPids(worker.pid!);
    const send = async ({ body, type }: { body: Uint8Array; type: string }, expected: number) => {
      const res = await fetch(`${BASE}/v1/jobs`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": type },
        body: body as Uint8Array<ArrayBuffer>,
      });
      const text = await res.text();
      if (res.status !== expected) throw new Error(`expected ${expected}, got ${res.status}: ${text.slice(0, 300)}`);
    };
    await send(smallBody(), 201);
    await new Promise((r) => setTimeout(r, 1000));
    const worst = worstBody(run, refusedAfterReading);
    const before = pids.map(rssKib);
    for (const pid of pids) writeFileSync(`/proc/${pid}/clear_refs`, "5"); // resets VmHWM to the current RSS
    await send(worst, refusedAfterReading ? 422 : 201);
    return { bytes: worst.body.byteLength, deltas: pids.map((pid, i) => (peakKib(pid) - before[i]!) / 1024) };
  } finally {
    if (worker.pid) process.kill(-worker.pid, "SIGTERM");
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function main(): Promise<void> {
  rmSync(STATE, { recursive: true, force: true });
  ensureDevVars();
  applyLocalMigrations(STATE);
  const { key } = await createLocalKey("multipart-bench", ["jobs:read", "jobs:write"], "bench", STATE);
  const size = worstBody(0).body.byteLength / MiB;
  console.log(
    `Worst accepted multipart job: ${size.toFixed(2)} MiB (two ${API_LIMITS.maxImageBytes / MiB} MiB images and the rest in a third), each run in a fresh workerd`,
  );
  console.log(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}\n`,
  );
  try {
    for (const [what, refused] of [
      ["accepted (read, checked, stored in the local R2)", false],
      ["the same body refused after it was read (width 72): no R2 write", true],
    ] as const) {
      const peaks: number[] = [];
      for (let run = 1; run <= RUNS; run++) {
        const { deltas } = await measureOnce(key, run, refused);
        peaks.push(Math.max(...deltas));
      }
      const max = Math.max(...peaks);
      console.log(
        `${what}: peak resident set over idle ${peaks.map((p) => p.toFixed(1)).join(", ")} MiB; largest ${max.toFixed(1)} MiB (${(max / size).toFixed(2)} x the body)`,
      );
    }
  } finally {
    rmSync(STATE, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
