import { verifyWebhook, type WebhookEvent } from "@ecomid/shared/sdk";
import { sleep } from "../e2e/support/net.js";
import { killGroup } from "../e2e/support/processes.js";
import { currentGpuPid, startStack, stopStack, type StackInfo } from "../e2e/support/stack.js";
import { ApiClient, fixtureImage, isTerminalStatus, type Json, type JobLogEvent } from "./support/client.js";
import { FlakyWebhookReceiver, type InjectedFailure } from "./support/flaky-receiver.js";
import { createRng } from "./support/rng.js";

/**
 * The webhook suite, shared by test/reliability/webhooks.test.ts (CI size) and
 * scripts/reliability-webhooks.ts (full size): jobs whose webhooks go to a receiver
 * that fails about half its requests and is down for a stretch in the middle.
 */

export const WEBHOOK_EVENT_TYPES = ["job.progress", "job.succeeded", "job.failed", "job.canceled", "job.aborted"] as const;

export interface WebhookOptions {
  seed: number;
  /** Plain jobs that succeed (besides the long, failing, canceled and aborted ones). */
  jobs: number;
  /** Pause between plain submissions (ms): the one GPU slot must keep up, or dispatch fails jobs as no_capacity. */
  submitGapMs: number;
  steps: number;
  /** Steps and side of the long job, whose many progress events meet the outage. */
  longSteps: number;
  longSide: number;
  failureRate: number;
  maxFailuresPerDelivery: number;
  maxTimeouts: number;
  /** The receiver closes its port this long after the aborted job (the first) has ended, for `downForMs`. */
  downAtMs: number;
  downForMs: number;
  /** The edge's compressed retry schedule (WEBHOOK_RETRY_DELAYS_SECONDS). */
  retryDelaysSeconds: number[];
  /** Every job must be terminal within this long (ms) of the first submission. */
  jobsWithinMs: number;
}

export interface WebhookJobResult {
  id: string;
  role: "long" | "aborted" | "canceled" | "failed" | "plain";
  status: string;
  expected: number;
  delivered: number;
  outOfOrder: number;
}

export interface WebhookReport {
  seed: number;
  options: WebhookOptions;
  jobs: WebhookJobResult[];
  events: number;
  eventsByType: Record<string, number>;
  /** Attempts the edge made (its delivery log), requests the receiver saw, and how they ended. */
  attempts: number;
  receiverRequests: number;
  injected: Record<InjectedFailure, number>;
  refusedWhileDown: number;
  duplicates: number;
  outOfOrderArrivals: number;
  /** job.progress deliveries whose `data.job` was already terminal: the payload is the job at delivery time, not at the event. */
  progressWithTerminalJob: number;
  maxAttemptsForOneEvent: number;
  /** From the first submission: jobs all terminal, receiver back up, last event delivered. */
  jobsDoneMs: number;
  downtime: { fromMs: number; toMs: number | null };
  allDeliveredMs: number | null;
  violations: string[];
}

export function webhookStackOptions(retryDelaysSeconds: number[]) {
  return {
    edgeVars: {
      WEBHOOK_RETRY_DELAYS_SECONDS: retryDelaysSeconds.join(","),
      MAX_JOBS_IN_FLIGHT: "1000",
      RATE_LIMIT_CREATES_PER_MINUTE: "10000",
      RATE_LIMIT_REQUESTS_PER_MINUTE: "100000",
    },
  };
}

interface Submitted {
  id: string;
  role: WebhookJobResult["role"];
}

export async function runWebhooks(stack: StackInfo, options: WebhookOptions): Promise<WebhookReport> {
  const api = new ApiClient(stack);
  const receiver = new FlakyWebhookReceiver({
    rng: createRng(options.seed),
    failureRate: options.failureRate,
    maxFailuresPerDelivery: options.maxFailuresPerDelivery,
    maxTimeouts: options.maxTimeouts,
    holdMs: 20_000,
  });
  const url = await receiver.start();
  const secret = await api.webhookSecret();
  const webhook = { url, events: [...WEBHOOK_EVENT_TYPES] };
  const astronaut = fixtureImage("astronaut.png");
  const submitted: Submitted[] = [];
  const started = Date.now();
  const since = () => Date.now() - started;
  const submit = async (role: Submitted["role"], input: Json, face = astronaut, extra: Json = {}) => {
    const job = await api.createTinyJob({ width: 64, height: 64, ...input }, face, { webhook, metadata: { role }, ...extra });
    submitted.push({ id: job.id, role });
    return job.id as string;
  };

  // The job with the shortest deadline is submitted while the GPU function is paused (SIGSTOP
  // to its group), so it is aborted however fast this machine runs the other jobs.
  const gpuPid = currentGpuPid(stack.stateDir);
  killGroup(gpuPid, "SIGSTOP");
  try {
    const aborted = await submit(
      "aborted",
      { prompt: "webhooks: waits past its deadline", seed: 1 + (options.seed % 1000), steps: options.steps },
      astronaut,
      { deadline_seconds: 10 },
    );
    await waitFor(`${aborted} to end`, 60_000, async () => (isTerminalStatus((await api.getJob(aborted)).status) ? true : undefined));
  } finally {
    killGroup(gpuPid, "SIGCONT");
  }
  const outage = (async () => {
    await sleep(options.downAtMs);
    await receiver.goDown();
    await sleep(options.downForMs);
    await receiver.comeBack();
  })();

  // A long job: its progress events are the bulk of the webhooks while the receiver is down.
  const long = await submit("long", {
    prompt: "webhooks: the long one",
    seed: options.seed % 1000,
    steps: options.longSteps,
    width: options.longSide,
    height: options.longSide,
  });
  await waitFor(`${long} to run`, 120_000, async () => ((await api.getJob(long)).status !== "queued" ? true : undefined));
  const canceled = await submit("canceled", {
    prompt: "webhooks: canceled while queued",
    seed: 2 + (options.seed % 1000),
    steps: options.steps,
  });
  await api.json(`/v1/jobs/${canceled}/cancel`, { method: "POST" });
  await submit(
    "failed",
    { prompt: "webhooks: no face", seed: 3 + (options.seed % 1000), steps: options.steps },
    fixtureImage("coffee.png"),
  );
  for (let i = 0; i < options.jobs; i++) {
    if (i > 0) await sleep(options.submitGapMs);
    await submit("plain", { prompt: `webhooks job ${i}`, seed: (options.seed + 10 + i) % 2 ** 31, steps: options.steps });
  }

  const violations: string[] = [];
  const jobs = await waitFor("every job to be terminal", options.jobsWithinMs - since(), async () => {
    const all = await Promise.all(submitted.map((s) => api.getJob(s.id)));
    return all.every((j) => isTerminalStatus(j.status)) ? all : undefined;
  }).catch(async (e: unknown) => {
    violations.push(String(e));
    return Promise.all(submitted.map((s) => api.getJob(s.id)));
  });
  const jobsDoneMs = since();
  await outage;
  const logs = new Map<string, JobLogEvent[]>();
  for (const j of jobs) if (isTerminalStatus(j.status)) logs.set(j.id, await api.eventLog(j.id));

  // Every event must end delivered: wait until no delivery is pending, within the schedule's whole span and a margin.
  const span = options.retryDelaysSeconds.reduce((a, b) => a + b, 0) * 1100 + 60_000;
  const deliveries = await waitFor("every webhook delivery to settle", span, async () => {
    const rows = (await Promise.all(submitted.map((s) => api.webhookDeliveries(s.id)))).flat();
    return rows.some((r) => r.status === "pending") ? undefined : rows;
  }).catch(async (e: unknown) => {
    violations.push(String(e));
    return (await Promise.all(submitted.map((s) => api.webhookDeliveries(s.id)))).flat();
  });
  // The last 2xx may still be on its way back from the receiver when the edge records it.
  await sleep(500);
  await receiver.stop();

  for (const d of deliveries)
    if (d.status !== "delivered")
      violations.push(
        `delivery ${d.id} (${d.job_id} #${d.sequence} ${d.type}) ended ${d.status} after ${d.attempts} attempts: ${d.last_error}`,
      );

  // What arrived: each accepted request verified as a customer would, with the owner's secret.
  const arrivals: Array<{ webhookId: string; atMs: number; event: WebhookEvent }> = [];
  // atMs from here on: since the first submission.
  for (const a of receiver.accepted) {
    try {
      const event = await verifyWebhook(secret, a.headers, a.body, { now: a.receivedAt });
      arrivals.push({ webhookId: a.headers["webhook-id"]!, atMs: a.receivedAt - started, event });
    } catch (e) {
      violations.push(`a delivery (${a.headers["webhook-id"]}) did not verify: ${String(e)}`);
    }
  }
  const firstArrival = new Map<string, (typeof arrivals)[number]>();
  for (const a of arrivals) if (!firstArrival.has(a.webhookId)) firstArrival.set(a.webhookId, a);
  const duplicates = arrivals.length - firstArrival.size;

  const results: WebhookJobResult[] = [];
  let outOfOrderArrivals = 0;
  for (const s of submitted) {
    const job = jobs.find((j) => j.id === s.id)!;
    const log = logs.get(s.id) ?? [];
    const expected = log.filter((e) => (WEBHOOK_EVENT_TYPES as readonly string[]).includes(e.type));
    const mine = [...firstArrival.values()].filter((a) => a.event.data.job.id === s.id).sort((x, y) => x.atMs - y.atMs);
    const bySequence = new Map(mine.map((a) => [a.event.data.sequence, a.event]));
    for (const e of expected) {
      const got = bySequence.get(e.sequence);
      if (!got) violations.push(`${s.id} (${s.role}): event #${e.sequence} ${e.type} never arrived`);
      else if (got.type !== e.type) violations.push(`${s.id}: #${e.sequence} arrived as ${got.type}, the log says ${e.type}`);
    }
    for (const seq of bySequence.keys())
      if (!expected.some((e) => e.sequence === seq)) violations.push(`${s.id}: #${seq} arrived but is no subscribed event of the log`);
    if (mine.length !== bySequence.size) violations.push(`${s.id}: two different deliveries carried the same sequence`);
    // Delivery order is not promised; count arrivals that came after a later event of the same job.
    let highest = 0;
    let outOfOrder = 0;
    for (const a of mine) {
      if (a.event.data.sequence < highest) outOfOrder++;
      highest = Math.max(highest, a.event.data.sequence);
    }
    outOfOrderArrivals += outOfOrder;
    results.push({ id: s.id, role: s.role, status: job.status, expected: expected.length, delivered: bySequence.size, outOfOrder });
  }
  const roleStatus: Record<WebhookJobResult["role"], string> = {
    long: "succeeded",
    aborted: "aborted",
    canceled: "canceled",
    failed: "failed",
    plain: "succeeded",
  };
  for (const r of results) {
    const error = jobs.find((j) => j.id === r.id)?.error as Json | null;
    if (r.status !== roleStatus[r.role])
      violations.push(
        `${r.id} (${r.role}) ended ${r.status}${error ? ` (${error.code}: ${error.message})` : ""}, not ${roleStatus[r.role]}`,
      );
  }

  const lastDelivered = Math.max(...[...firstArrival.values()].map((a) => a.atMs));
  const eventsByType: Record<string, number> = {};
  for (const r of deliveries) eventsByType[r.type] = (eventsByType[r.type] ?? 0) + 1;
  const attempts = deliveries.reduce((n, d) => n + (d.attempts as number), 0);
  return {
    seed: options.seed,
    options,
    jobs: results,
    events: deliveries.length,
    eventsByType,
    attempts,
    receiverRequests: receiver.requests.length,
    injected: receiver.injectedFailures(),
    refusedWhileDown: attempts - receiver.requests.length,
    duplicates,
    outOfOrderArrivals,
    progressWithTerminalJob: [...firstArrival.values()].filter(
      (a) => a.event.type === "job.progress" && isTerminalStatus(a.event.data.job.status),
    ).length,
    maxAttemptsForOneEvent: Math.max(0, ...deliveries.map((d) => d.attempts as number)),
    jobsDoneMs,
    downtime: shift(receiver.downtimes[0] ?? { fromMs: 0, toMs: null }, receiver.startedAt - started),
    allDeliveredMs: Number.isFinite(lastDelivered) ? lastDelivered : null,
    violations,
  };
}

const shift = (d: { fromMs: number; toMs: number | null }, by: number) => ({
  fromMs: d.fromMs + by,
  toMs: d.toMs === null ? null : d.toMs + by,
});

async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + Math.max(0, timeoutMs);
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= until) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(1000);
  }
}

export async function runWebhooksOnFreshStack(options: WebhookOptions): Promise<WebhookReport> {
  const stack = await startStack(webhookStackOptions(options.retryDelaysSeconds));
  try {
    return await runWebhooks(stack, options);
  } finally {
    await stopStack(stack.stateDir);
  }
}

export function formatWebhookReport(r: WebhookReport): string {
  const s = (ms: number | null) => (ms === null ? "n/a" : `${(ms / 1000).toFixed(1)} s`);
  return [
    `seed ${r.seed}: ${r.jobs.length} jobs (${r.jobs.map((j) => `${j.role}:${j.status}`).join(", ")})`,
    `events ${r.events} ${JSON.stringify(r.eventsByType)}; delivery attempts ${r.attempts} (receiver saw ${r.receiverRequests}, ${r.refusedWhileDown} refused while down), at most ${r.maxAttemptsForOneEvent} for one event`,
    `injected failures ${JSON.stringify(r.injected)}; duplicates ${r.duplicates}; out-of-order arrivals ${r.outOfOrderArrivals}; progress events carrying an already finished job ${r.progressWithTerminalJob}`,
    `down ${s(r.downtime.fromMs)} to ${s(r.downtime.toMs)}; jobs terminal at ${s(r.jobsDoneMs)}; last event delivered at ${s(r.allDeliveredMs)}`,
    `violations: ${r.violations.length ? `\n  ${r.violations.join("\n  ")}` : "none"}`,
  ].join("\n");
}
