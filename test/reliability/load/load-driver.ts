import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createLocalKey } from "../../../scripts/keys.js";
import { ErrorTally } from "../../../scripts/lib/error-tally.js";
import { startStack, stopStack, type StackInfo } from "../../e2e/support/stack.js";
import { devServerGlitch } from "../support/dev-server-glitch.js";
import { setupFetch } from "../support/setup-fetch.js";

/**
 * Many concurrent clients against the real local stack (wrangler dev + the GPU function
 * on the tiny bundle): each submits a job, polls it to a terminal state, and again,
 * until the time is up; then every job still open is polled to its end. Clients are
 * spread over several API keys (owners), with the edge's default rate limits and
 * in-flight cap: a 429 is expected and honoured (the client waits Retry-After).
 * `gpuClients` of them always need GPU work; the rest repeat a seed and are served by
 * the result cache, so the GPU queue stays within what one CPU-bound GPU function drains
 * inside the dispatch retry budget (see BENCHMARKS.md "Load" for what happens past it).
 */
export interface LoadOptions {
  baseUrl: string;
  keys: string[];
  /** One completed upload per key (the reference image jobs point at). */
  uploads: string[];
  clients: number;
  seconds: number;
  /**
   * Clients that always send a fresh seed (real GPU work); the others repeat their key's
   * seed, which the result cache answers once it has run (primed before the clock starts).
   */
  gpuClients: number;
  pollMs?: number;
  /** After the time is up, how long open jobs may take to finish. */
  drainSeconds?: number;
}

export interface KindStats {
  count: number;
  p50: number;
  p99: number;
}

export interface LoadReport {
  clients: number;
  keys: number;
  seconds: number;
  submitted: number;
  terminal: Record<string, number>;
  /** Succeeded jobs by how: "gpu" (ran on the GPU function) or "cache" (served from the result cache). */
  served: Record<string, number>;
  notTerminal: string[];
  rateLimited: number;
  kinds: Record<string, KindStats>;
  /** Anything not 2xx, nor a 429 with Retry-After; any job that did not succeed. */
  errors: string[];
  /** The same failures counted by status and problem code (or network error, or job outcome). */
  errorsByKind: string[];
  /** Requests sent again because wrangler's dev server, not the worker, answered (see dev-server-glitch.ts). */
  devProxyRetries: number;
  /** Repeatable requests (polls; submissions, which carry an Idempotency-Key) sent again after a broken connection, as the SDK does. */
  connectionRetries: number;
}

const TERMINAL = new Set(["succeeded", "failed", "canceled", "aborted"]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const latencies: Record<string, number[]> = { submit: [], poll: [] };
  const errors: string[] = [];
  const tally = new ErrorTally();
  const terminal: Record<string, number> = {};
  const served: Record<string, number> = {};
  const open = new Set<string>();
  let submitted = 0;
  let rateLimited = 0;
  let devProxyRetries = 0;
  let connectionRetries = 0;
  let seedCounter = 1000;

  /**
   * One request; a 429 is waited out (Retry-After) and sent again; so is a broken
   * connection, once per request (every request here is repeatable: GETs, and
   * submissions with an Idempotency-Key); anything else unexpected is an error.
   */
  const request = async (kind: string, key: string, path: string, init: RequestInit = {}): Promise<Record<string, unknown> | null> => {
    const headers = {
      authorization: `Bearer ${key}`,
      ...(init.method === "POST" ? { "idempotency-key": `load-${randomUUID()}` } : {}),
      ...(init.headers as Record<string, string>),
    };
    let resentAfterBreak = false;
    for (;;) {
      const t0 = performance.now();
      let res: Response;
      try {
        res = await fetch(o.baseUrl + path, { ...init, headers });
      } catch (e) {
        if (e instanceof TypeError && !resentAfterBreak) {
          resentAfterBreak = true;
          connectionRetries++;
          continue;
        }
        errors.push(`${kind} ${path}: ${e instanceof Error ? `${e.message}${e.cause ? ` (${String(e.cause)})` : ""}` : String(e)}`);
        tally.recordNetworkError(e);
        return null;
      }
      const text = await res.text();
      latencies[kind]!.push(performance.now() - t0);
      if (res.status === 429) {
        const retryAfter = Number(res.headers.get("retry-after"));
        if (!Number.isFinite(retryAfter) || retryAfter < 0) {
          errors.push(`${kind} ${path}: 429 without a usable Retry-After`);
          tally.recordResponse(res.status, text);
          return null;
        }
        rateLimited++;
        await sleep(retryAfter * 1000);
        continue;
      }
      if (
        devServerGlitch({
          status: res.status,
          method: init.method ?? "GET",
          requestId: res.headers.get("x-request-id"),
          contentType: res.headers.get("content-type"),
          body: text,
        }) &&
        devProxyRetries < 100
      ) {
        devProxyRetries++;
        continue;
      }
      if (res.status < 200 || res.status >= 300) {
        errors.push(`${kind} ${path}: ${res.status} ${text.slice(0, 200)}`);
        tally.recordResponse(res.status, text);
        return null;
      }
      return JSON.parse(text) as Record<string, unknown>;
    }
  };

  const follow = async (key: string, id: string) => {
    for (;;) {
      const job = await request("poll", key, `/v1/jobs/${id}`);
      if (!job) return;
      const status = job.status as string;
      if (TERMINAL.has(status)) {
        terminal[status] = (terminal[status] ?? 0) + 1;
        if (status === "succeeded") served[job.cached ? "cache" : "gpu"] = (served[job.cached ? "cache" : "gpu"] ?? 0) + 1;
        if (status !== "succeeded") {
          errors.push(`job ${id} ended ${status}: ${JSON.stringify(job.error)}`);
          tally.recordOther(`job ended ${status} ${(job.error as { code?: string } | null)?.code ?? ""}`.trim());
        }
        open.delete(id);
        return;
      }
      await sleep(o.pollMs ?? 250);
    }
  };

  const jobBody = (k: number, seed: number) =>
    JSON.stringify({
      model: "ecomid-tiny",
      input: { reference_images: [{ upload_id: o.uploads[k] }], prompt: "a load-test portrait", seed },
    });
  // Prime each key's repeated job, so the timed run meets a warm result cache (the primes are not counted).
  const primes = await Promise.all(
    o.keys.map(async (key, k) => ({
      key,
      job: await request("submit", key, "/v1/jobs", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: jobBody(k, 1),
      }),
    })),
  );
  await Promise.all(primes.map(async ({ key, job }) => job && follow(key, job.id as string)));
  for (const kind of Object.keys(latencies)) latencies[kind] = [];
  for (const k of Object.keys(terminal)) delete terminal[k];
  for (const k of Object.keys(served)) delete served[k];
  if (errors.length)
    return {
      clients: o.clients,
      keys: o.keys.length,
      seconds: 0,
      submitted: 0,
      terminal,
      served,
      notTerminal: [...open],
      rateLimited,
      kinds: {},
      errors,
      errorsByKind: tally.lines(),
      devProxyRetries,
      connectionRetries,
    };

  const started = performance.now();
  const until = started + o.seconds * 1000;
  const drainUntil = until + (o.drainSeconds ?? 120) * 1000;
  await Promise.all(
    Array.from({ length: o.clients }, async (_, c) => {
      const k = c % o.keys.length;
      while (performance.now() < until) {
        const seed = c < o.gpuClients ? seedCounter++ : 1;
        const job = await request("submit", o.keys[k]!, "/v1/jobs", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: jobBody(k, seed),
        });
        if (!job) continue;
        submitted++;
        open.add(job.id as string);
        await Promise.race([follow(o.keys[k]!, job.id as string), sleep(Math.max(0, drainUntil - performance.now()))]);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const kinds = Object.fromEntries(
    Object.entries(latencies).map(([kind, values]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return [kind, { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) }];
    }),
  );
  return {
    clients: o.clients,
    keys: o.keys.length,
    seconds,
    submitted,
    terminal,
    served,
    notTerminal: [...open],
    rateLimited,
    kinds,
    errors,
    errorsByKind: tally.lines(),
    devProxyRetries,
    connectionRetries,
  };
}

export interface LoadStack {
  stack: StackInfo;
  keys: string[];
  uploads: string[];
}

/** A fresh stack with `keyCount` keys of distinct owners, each with one completed upload. */
export async function startLoadStack(keyCount: number, edgeVars: Record<string, string> = {}): Promise<LoadStack> {
  const stack = await startStack({ edgeVars });
  try {
    const { key: admin } = await createLocalKey("load-admin", ["admin"], "load admin", join(stack.stateDir, "wrangler"));
    const image = readFileSync(resolve(import.meta.dirname, "../../fixtures/images/astronaut.png"));
    const keys: string[] = [];
    const uploads: string[] = [];
    for (let i = 0; i < keyCount; i++) {
      const made = await setupFetch(`${stack.edgeUrl}/v1/admin/keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
        body: JSON.stringify({ owner_id: `load-owner-${i}`, name: "load" }),
      });
      const key = ((await made.json()) as { key: string }).key;
      const upload = (await (
        await setupFetch(`${stack.edgeUrl}/v1/uploads`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ content_type: "image/png", bytes: image.byteLength }),
        })
      ).json()) as { id: string; upload_url: string };
      const put = await setupFetch(upload.upload_url, {
        method: "PUT",
        headers: { "content-type": "image/png" },
        body: new Uint8Array(image),
      });
      if (put.status !== 201) throw new Error(`load setup: upload PUT gave ${put.status}`);
      keys.push(key);
      uploads.push(upload.id);
    }
    return { stack, keys, uploads };
  } catch (e) {
    await stopStack(stack.stateDir);
    throw e;
  }
}

export function formatLoadReport(r: LoadReport): string {
  const lines = [
    `load: ${r.clients} clients over ${r.keys} keys, ${r.seconds.toFixed(1)} s (including the drain of open jobs)`,
    `  jobs submitted ${r.submitted}, terminal ${JSON.stringify(r.terminal)} (succeeded on the GPU ${r.served.gpu ?? 0}, from the cache ${r.served.cache ?? 0}), not terminal ${r.notTerminal.length}, ${(((r.terminal.succeeded ?? 0) / r.seconds) * 60).toFixed(0)} jobs/min`,
    `  429 answers honoured (Retry-After) ${r.rateLimited}, sent again after an answer of the dev server, not the worker, ${r.devProxyRetries}, after a broken connection ${r.connectionRetries}, errors ${r.errors.length}`,
    ...Object.entries(r.kinds).map(
      ([k, s]) =>
        `  ${k.padEnd(7)} ${String(s.count).padStart(7)} requests  ${(s.count / r.seconds).toFixed(1).padStart(7)} req/s  p50 ${s.p50.toFixed(1)} ms  p99 ${s.p99.toFixed(1)} ms`,
    ),
    ...(r.errorsByKind.length ? ["  errors by status and code:", ...r.errorsByKind.map((l) => `    ${l}`)] : []),
    ...r.errors.slice(0, 20).map((e) => `  ERROR ${e}`),
    ...(r.errors.length || r.notTerminal.length
      ? [`  FAILED RUN: ${r.errors.length} errors, ${r.notTerminal.length} jobs not terminal`]
      : []),
  ];
  return lines.join("\n");
}
