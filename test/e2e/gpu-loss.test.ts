import { execFileSync } from "node:child_process";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { api, createJob, getJob, gpuHealth, gpuMetrics, image, stack, tinyJob, type Json } from "./support/api.js";
import { groupAlive, killGroup } from "./support/processes.js";
import { sleep, waitUntil } from "./support/net.js";
import { followEvents, type SseEvent } from "./support/sse.js";
import { currentGpuPid, startGpuFunction } from "./support/stack.js";

/** Runs a 40-step job and calls `crash` once denoising is under way; returns the job's events and final state. */
async function jobThroughCrash(seed: number, crash: () => Promise<void>): Promise<{ events: SseEvent[]; job: Json }> {
  const created = await createJob(
    tinyJob({ prompt: `a portrait that survives a crash (${seed})`, seed, steps: 40 }),
    image("astronaut.png"),
  );
  let crashed: Promise<void> | undefined;
  const events = await followEvents(created.id, 140_000, (e) => {
    if (!crashed && e.event === "job.progress" && ((e.data.data as Json).progress?.step ?? 0) >= 2) crashed = crash();
  });
  expect(crashed, `never saw denoising progress: ${events.map((e) => e.event).join(", ")}`).toBeDefined();
  await crashed;
  return { events, job: await getJob(created.id) };
}

/** The job finished on its second attempt with a real, decodable output. */
async function expectCompletedOnAttempt2(events: SseEvent[], job: Json, reason: string): Promise<SseEvent> {
  const types = events.map((e) => e.event);
  expect(types.at(-1), types.join(", ")).toBe("job.succeeded");
  const retrying = events.filter((e) => e.event === "job.retrying");
  expect(retrying, types.join(", ")).toHaveLength(1);
  expect(retrying[0]!.data.data).toMatchObject({ attempt: 2, reason: { code: reason, retryable: true } });
  expect(job).toMatchObject({ status: "succeeded", attempt: 2, cached: false, error: null });
  expect(job.output).toHaveLength(1);
  const download = await fetch((await api(`/v1/jobs/${job.id}/outputs/0`)).headers.get("location")!);
  expect(download.status).toBe(200);
  expect(await sharp(Buffer.from(await download.arrayBuffer())).metadata()).toMatchObject({ format: "webp", width: 64, height: 64 });
  return retrying[0]!;
}

describe("the GPU function dies mid-job", () => {
  it("the whole service is killed: the edge's lease runs out and a new process on the same port completes it (attempt 2)", async () => {
    const { stateDir, gpuPort, dispatchToken, leaseSeconds } = stack();
    const { events, job } = await jobThroughCrash(6060, async () => {
      // SIGKILL to the group, not a graceful stop: no "failed" callback, the edge only notices that reports stopped.
      const pid = currentGpuPid(stateDir);
      killGroup(pid, "SIGKILL");
      while (groupAlive(pid)) await sleep(50);
      await startGpuFunction(stateDir, gpuPort, dispatchToken); // same port: the edge's pool URL is unchanged
    });
    const retrying = await expectCompletedOnAttempt2(events, job, "worker_lost");
    // The retry came from the lease: LEASE_SECONDS of silence after the dead process's last report.
    const lastReport = events[events.indexOf(retrying) - 1]!;
    expect(Date.parse(retrying.data.at) - Date.parse(lastReport.data.at)).toBeGreaterThanOrEqual(leaseSeconds * 1000 - 1500);
  });

  it("only its inference child is killed: the job fails over as retryable and completes (attempt 2)", async () => {
    const before = await gpuMetrics();
    const { events, job } = await jobThroughCrash(7070, async () => {
      // The service's child running worker-main.ts (tsx may have other helpers beside it).
      const pgrep = execFileSync("pgrep", ["-P", String(currentGpuPid(stack().stateDir)), "-f", "worker-main"], { encoding: "utf8" });
      const child = Number(pgrep.trim().split("\n")[0]);
      expect(child).toBeGreaterThan(0);
      process.kill(child, "SIGKILL");
    });
    await expectCompletedOnAttempt2(events, job, "worker_crashed");
    // The service restarted its child itself (no lease wait) and ran attempt 2 there.
    const after = await gpuMetrics();
    expect((after.gpu_worker_restarts_total ?? 0) - (before.gpu_worker_restarts_total ?? 0)).toBe(1);
    await waitUntil("the GPU function to be idle", 10_000, async () => ((await gpuHealth()).in_flight === 0 ? true : undefined));
  });
});
