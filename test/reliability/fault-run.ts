import { randomBytes } from "node:crypto";
import { sleep } from "../e2e/support/net.js";
import { startStack, stopStack, type StackInfo } from "../e2e/support/stack.js";
import { ApiClient, fixtureImage, isTerminalStatus, type Json } from "./support/client.js";
import { edgeLogLines } from "./support/edge-log.js";
import { GpuChaos, type GpuKill } from "./support/gpu-chaos.js";
import { createRng } from "./support/rng.js";
import { keyOfFileUrl, probeWriteOnce, sha256Hex, type WriteOnceProbe } from "./support/signed-put.js";

/**
 * The fault suite, shared by test/reliability/fault.test.ts (CI size) and
 * scripts/reliability-fault.ts (full size): jobs submitted against the real stack
 * while its GPU function is SIGKILLed at seeded random points and restarted.
 */

/**
 * How a job may end when GPU functions die under it. A kill is noticed as
 * `worker_lost` (the lease runs out) and retried; a job fails only when every attempt
 * (MAX_ATTEMPTS) was lost. The others are the retryable codes the same machinery can
 * end on: the inference child dying (`worker_crashed`), no GPU accepting the job in
 * time (`no_capacity`), an upload cut off by the kill (`output_upload_failed`).
 * Anything else (a canceled or aborted job, `internal_error`, a 5xx) is a bug.
 */
export const ALLOWED_FAILURE_CODES = ["worker_lost", "worker_crashed", "no_capacity", "output_upload_failed"] as const;

export interface FaultOptions {
  seed: number;
  jobs: number;
  kills: number;
  /** Submissions are spread over this long (ms), so kills meet jobs at every stage. */
  submitOverMs: number;
  steps: number;
  /** After the kills end, every job must be terminal within this long (ms): none stuck. */
  settleMs: number;
  /** The whole run is abandoned after this long (ms); jobs not terminal by then are reported stuck. */
  giveUpMs: number;
  quietMs: [number, number];
  strikeMs: [number, number];
}

export interface FaultJobResult {
  id: string;
  status: string;
  substatus: string | null;
  attempt: number;
  errorCode: string | null;
  outputKeys: string[];
}

export interface FaultReport {
  seed: number;
  options: FaultOptions;
  durationMs: number;
  kills: GpuKill[];
  jobs: FaultJobResult[];
  outcomes: Record<string, number>;
  attempts: Record<string, number>;
  outputWrites: { stored: number; replayed: number; refused: number };
  writeOnce: WriteOnceProbe | null;
  violations: string[];
}

/** The signing secret is the suite's, so the write-once probe can sign a PUT URL like the job object does. */
export function faultStackOptions(signingSecret: string) {
  return {
    edgeVars: {
      SIGNING_SECRET: signingSecret,
      MAX_ATTEMPTS: "3",
      // Every job of the run is in flight at once, and the suite polls: no 429s of its own making.
      MAX_JOBS_IN_FLIGHT: "1000",
      RATE_LIMIT_CREATES_PER_MINUTE: "10000",
      RATE_LIMIT_REQUESTS_PER_MINUTE: "100000",
    },
  };
}

export const newSigningSecret = () => randomBytes(32).toString("hex");

export async function runFault(stack: StackInfo, signingSecret: string, options: FaultOptions): Promise<FaultReport> {
  const api = new ApiClient(stack);
  const rng = createRng(options.seed);
  const face = fixtureImage("astronaut.png");
  const started = Date.now();
  const chaos = new GpuChaos(stack, rng, { kills: options.kills, quietMs: options.quietMs, strikeMs: options.strikeMs });
  chaos.start();

  // The submission schedule comes from its own generator, so it does not shift with the number of kills.
  const submitRng = createRng(options.seed ^ 0x5bd1e995);
  const gaps = Array.from({ length: options.jobs }, () => submitRng.next());
  const scale =
    options.submitOverMs /
    Math.max(
      1e-9,
      gaps.reduce((a, b) => a + b, 0),
    );
  const ids: string[] = [];
  for (let i = 0; i < options.jobs; i++) {
    await sleep(gaps[i]! * scale);
    const job = await api.createTinyJob(
      { prompt: `fault run ${options.seed} job ${i}`, seed: (options.seed + i) % 2 ** 31, steps: options.steps, width: 64, height: 64 },
      face,
    );
    ids.push(job.id as string);
  }

  const giveUpAt = started + options.giveUpMs;
  const allTerminal = async () => (await listStatuses(api, ids)).every((s) => isTerminalStatus(s));
  // Faults run while there is work; once every job is terminal (or the kills are spent) they stop.
  while (Date.now() < giveUpAt && !(await allTerminal())) {
    if (chaos.kills.length >= options.kills) break;
    await sleep(1000);
  }
  await chaos.stop();
  const settleBy = Math.min(giveUpAt, Date.now() + options.settleMs);
  while (Date.now() < settleBy && !(await allTerminal())) await sleep(1000);

  const jobs = await Promise.all(ids.map((id) => api.getJob(id)));
  const durationMs = Date.now() - started;
  const violations: string[] = [];
  const results = jobs.map((job) => checkJob(job, violations));
  await checkOutputs(jobs, violations);

  const stored = edgeLogLines(stack.stateDir, "output stored");
  const replayed = edgeLogLines(stack.stateDir, "output write replayed");
  const refused = edgeLogLines(stack.stateDir, "output write refused: already written");
  checkWrittenOnce(results, stored, violations);

  let writeOnce: WriteOnceProbe | null = null;
  const done = jobs.filter((j) => j.status === "succeeded");
  if (done.length >= 2) {
    // Another job's output is a valid WebP of the same type, so only write-once can refuse it.
    const other = new Uint8Array(await (await fetch(done[1]!.output[0].url as string)).arrayBuffer());
    writeOnce = await probeWriteOnce(stack.edgeUrl, signingSecret, keyOfFileUrl(done[0]!.output[0].url as string), "image/webp", other);
    const w = writeOnce.overwrite;
    if (w.status !== 409 || !w.contentType?.startsWith("application/problem+json") || !w.unchanged)
      violations.push(`an output was overwritten or refused wrongly: ${JSON.stringify(writeOnce)}`);
    if (writeOnce.replay.status !== 200)
      violations.push(`the same bytes PUT again were not accepted as a replay: ${JSON.stringify(writeOnce)}`);
  } else {
    violations.push(`only ${done.length} jobs succeeded; the write-once probe needs two`);
  }

  return {
    seed: options.seed,
    options,
    durationMs,
    kills: chaos.kills,
    jobs: results,
    outcomes: countBy(results.map((r) => (r.status === "failed" ? `failed:${r.errorCode}` : r.status))),
    attempts: countBy(results.map((r) => `attempt ${r.attempt}`)),
    outputWrites: { stored: stored.length, replayed: replayed.length, refused: refused.length },
    writeOnce,
    violations,
  };
}

/** Statuses from the listing (one request per poll, not one per job). */
async function listStatuses(api: ApiClient, ids: string[]): Promise<string[]> {
  const wanted = new Set(ids);
  const seen = new Map<string, string>();
  let cursor: string | null = null;
  do {
    const page: Json = await api.json(`/v1/jobs?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    for (const j of page.data as Json[]) if (wanted.has(j.id)) seen.set(j.id, j.status);
    cursor = page.has_more ? (page.next_cursor as string) : null;
  } while (cursor && seen.size < wanted.size);
  return ids.map((id) => seen.get(id) ?? "missing");
}

function checkJob(job: Json, violations: string[]): FaultJobResult {
  const result: FaultJobResult = {
    id: job.id,
    status: job.status,
    substatus: job.substatus ?? null,
    attempt: job.attempt,
    errorCode: job.error?.code ?? null,
    outputKeys: (job.output as Json[]).map((o) => keyOfFileUrl(o.url)),
  };
  const where = `${job.id} (attempt ${job.attempt})`;
  if (!isTerminalStatus(job.status)) violations.push(`${where} is stuck: ${job.status}/${job.substatus}`);
  else if (job.status === "failed") {
    if (!(ALLOWED_FAILURE_CODES as readonly string[]).includes(result.errorCode ?? ""))
      violations.push(`${where} failed with an unexpected error: ${JSON.stringify(job.error)}`);
    if (!job.error?.message) violations.push(`${where} failed without a message`);
  } else if (job.status !== "succeeded") violations.push(`${where} ended ${job.status}; nothing cancels or sets deadlines here`);
  return result;
}

/** Every succeeded job: one output, from the attempt that succeeded, with the bytes its sha256 names. */
async function checkOutputs(jobs: Json[], violations: string[]): Promise<void> {
  for (const job of jobs.filter((j) => j.status === "succeeded")) {
    const outputs = job.output as Json[];
    if (outputs.length !== 1) violations.push(`${job.id} succeeded with ${outputs.length} outputs, not 1`);
    for (const o of outputs) {
      const key = keyOfFileUrl(o.url);
      if (!key.includes(`/outputs/a${job.attempt}/`)) violations.push(`${job.id} succeeded on attempt ${job.attempt} but serves ${key}`);
      const bytes = new Uint8Array(await (await fetch(o.url as string)).arrayBuffer());
      if (sha256Hex(bytes) !== o.sha256 || bytes.byteLength !== o.bytes)
        violations.push(`${job.id} output ${o.index}: served bytes do not match the job's sha256/size`);
    }
  }
}

/** From the edge's log: no output key was stored twice, and every served output was stored exactly once. */
function checkWrittenOnce(results: FaultJobResult[], stored: Array<Record<string, unknown>>, violations: string[]): void {
  const writes = countBy(stored.map((l) => String(l.object)));
  for (const [key, n] of Object.entries(writes)) if (n > 1) violations.push(`${key} was stored ${n} times`);
  for (const r of results)
    for (const key of r.outputKeys)
      if (writes[key] !== 1) violations.push(`${r.id} serves ${key}, stored ${writes[key] ?? 0} times per the edge log`);
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** Starts a stack, runs the suite, stops the stack; for the script. */
export async function runFaultOnFreshStack(options: FaultOptions): Promise<FaultReport> {
  const secret = newSigningSecret();
  const stack = await startStack(faultStackOptions(secret));
  try {
    return await runFault(stack, secret, options);
  } finally {
    await stopStack(stack.stateDir);
  }
}

export function formatFaultReport(r: FaultReport): string {
  const kills = r.kills
    .map((k) => `${(k.atMs / 1000).toFixed(1)}s(${k.inFlight} in flight, back in ${(k.restartMs / 1000).toFixed(1)}s)`)
    .join(", ");
  return [
    `seed ${r.seed}: ${r.jobs.length} jobs, ${r.kills.length} kills of ${r.options.kills} planned, ${(r.durationMs / 1000).toFixed(1)} s`,
    `kills: ${kills || "none"}`,
    `outcomes: ${JSON.stringify(r.outcomes)}`,
    `attempts: ${JSON.stringify(r.attempts)}`,
    `output writes (edge log): ${JSON.stringify(r.outputWrites)}`,
    `write-once probe: ${JSON.stringify(r.writeOnce)}`,
    `violations: ${r.violations.length ? `\n  ${r.violations.join("\n  ")}` : "none"}`,
  ].join("\n");
}
