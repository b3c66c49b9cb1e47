import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalKey } from "../../scripts/keys.js";
import { sleep } from "../e2e/support/net.js";
import { groupAlive, killGroup } from "../e2e/support/processes.js";
import { currentGpuPid, startGpuFunction, startStack, stopStack, type ExtraGpu, type StackInfo } from "../e2e/support/stack.js";
import { ApiClient, fixtureImage, isTerminalStatus, type Json } from "./support/client.js";
import { edgeLogLines } from "./support/edge-log.js";

/**
 * Two real GPU-function processes as two pools of the tiny model behind the real
 * edge: work is spread over both; a pool whose process dies is passed over (its jobs
 * go to the other, none fails) and shown unhealthy to operators; once it is back and
 * its health is probed again, it takes work again. The pool choice itself is unit
 * tested in workerd with scripted pools (test/edge/pools-and-index.test.ts).
 */
const JOB_TIMEOUT_MS = 120_000;
/** The edge trusts a pool's health for 10 s (HEALTH_TTL_MS); after that a dispatch probes it again. */
const HEALTH_TTL_MS = 10_000;

let stack: StackInfo;
let second: ExtraGpu;
let api: ApiClient;
let admin: ApiClient;
const face = fixtureImage("astronaut.png");
let jobCounter = 0;

beforeAll(async () => {
  stack = await startStack({ extraGpuPools: 1, edgeVars: { MAX_JOBS_IN_FLIGHT: "100" } });
  second = stack.extraGpus[0]!;
  api = new ApiClient(stack);
  const { key } = await createLocalKey("pools-admin", ["admin"], "pools admin", join(stack.stateDir, "wrangler"));
  admin = new ApiClient({ edgeUrl: stack.edgeUrl, apiKey: key });
}, 300_000);
afterAll(async () => {
  if (stack) await stopStack(stack.stateDir);
});

/** Submits `n` jobs at once (distinct seeds: no cache hits) and waits for all of them to end. */
async function runJobsAtOnce(n: number): Promise<Json[]> {
  const created = await Promise.all(
    Array.from({ length: n }, () =>
      api.createTinyJob({ prompt: "pools", seed: 1000 + jobCounter++, steps: 30, width: 64, height: 64 }, face),
    ),
  );
  const until = Date.now() + JOB_TIMEOUT_MS;
  const ids = created.map((j) => j.id as string);
  for (;;) {
    const jobs = await Promise.all(ids.map((id) => api.getJob(id)));
    if (jobs.every((j) => isTerminalStatus(j.status))) return jobs;
    if (Date.now() > until)
      throw new Error(`jobs not terminal after ${JOB_TIMEOUT_MS} ms: ${jobs.map((j) => `${j.id} ${j.status}`).join(", ")}`);
    await sleep(300);
  }
}

/** The pool each job's successful attempt was dispatched to, from the edge's "job dispatched" log lines. */
function poolsOf(jobs: Json[]): string[] {
  const dispatched = edgeLogLines(stack.stateDir, "job dispatched");
  return jobs.map((job) => {
    const line = dispatched.find((l) => l.job_id === job.id && l.attempt === job.attempt);
    if (!line) throw new Error(`no "job dispatched" log line for ${job.id} attempt ${job.attempt}`);
    return String(line.pool);
  });
}

async function poolStates(): Promise<Map<string, Json>> {
  const list = await admin.json("/v1/admin/pools");
  return new Map((list.data as Json[]).map((p) => [p.url as string, p]));
}

describe("two GPU-function pools behind the edge (real processes)", () => {
  it("spreads simultaneous jobs over both pools", async () => {
    const jobs = await runJobsAtOnce(6);
    expect(jobs.map((j) => j.status)).toEqual(Array(6).fill("succeeded"));
    const used = new Set(poolsOf(jobs));
    expect(used).toEqual(new Set([stack.gpuUrl, second.url]));
    const states = await poolStates();
    expect(states.get(stack.gpuUrl)?.state).toBe("healthy");
    expect(states.get(second.url)?.state).toBe("healthy");
  });

  it("passes over a pool whose process died: every job succeeds on the other, and operators see it unhealthy", async () => {
    const pid = currentGpuPid(stack.stateDir, second.name);
    killGroup(pid, "SIGKILL");
    while (groupAlive(pid)) await sleep(50);

    const jobs = await runJobsAtOnce(4);
    expect(jobs.map((j) => j.status)).toEqual(Array(4).fill("succeeded"));
    expect(new Set(poolsOf(jobs))).toEqual(new Set([stack.gpuUrl]));
    // Nothing was lost to the dead pool: no job needed another attempt.
    expect(jobs.map((j) => j.attempt)).toEqual(Array(4).fill(1));

    // Once its health is stale, the next dispatch probes it; the probe fails and takes it out.
    await sleep(HEALTH_TTL_MS + 500);
    const [late] = await runJobsAtOnce(1);
    expect(late!.status).toBe("succeeded");
    const dead = (await poolStates()).get(second.url)!;
    expect(dead.state).toBe("unhealthy");
    expect(dead.last_error).toEqual(expect.any(String));
    expect((await poolStates()).get(stack.gpuUrl)?.state).toBe("healthy");
  });

  it("takes the pool back once it is up again and a probe passes", async () => {
    await startGpuFunction(stack.stateDir, second.port, stack.dispatchToken, {}, second.name);
    // A failed pool is probed again after the TTL, on the next dispatch.
    await sleep(HEALTH_TTL_MS + 500);
    const jobs = await runJobsAtOnce(6);
    expect(jobs.map((j) => j.status)).toEqual(Array(6).fill("succeeded"));
    expect(new Set(poolsOf(jobs))).toEqual(new Set([stack.gpuUrl, second.url]));
    expect((await poolStates()).get(second.url)?.state).toBe("healthy");
  });
});
