import { runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { JobObject } from "../../edge/src/durable-objects/job-object.js";
import { OUTPUT_SWEEP_GRACE_MS } from "../../edge/src/jobs/job-timers.js";
import { r2Keys } from "../../edge/src/jobs/types.js";
import type { GpuJobRequest } from "@ecomid/shared/protocol";
import { api, completeJob, createKey, gpuCallback, installPeer, multipartJob, runDispatch, testEnv, tinyJob, webpOf } from "./helpers.js";

/**
 * A GPU function holds signed output PUT URLs for two hours. When the job is deleted
 * (or its retention ends) while it may still use them, nothing it writes may outlive
 * the URLs: its callbacks and uploads are refused, and the job's prefix is swept once
 * more after the URLs expire. The tests move the clock (Date) themselves.
 */
let peer: ReturnType<typeof installPeer>;
beforeEach(() => {
  peer = installPeer();
});
afterEach(() => {
  vi.useRealTimers();
  peer.restore();
});

const stub = (id: string) => testEnv.JOBS.get(testEnv.JOBS.idFromName(id));
const listPrefix = async (prefix: string) => (await testEnv.FILES.list({ prefix })).objects.map((o) => o.key);
const tablesOf = (id: string) =>
  runInDurableObject(
    stub(id),
    (_i, state) => state.storage.sql.exec(`SELECT name FROM sqlite_master WHERE type = 'table'`).toArray().length,
  );

async function runningJob(owner: string): Promise<{ key: string; request: GpuJobRequest; prefix: string }> {
  const { key } = await createKey(owner);
  const job = (await (await multipartJob(key, tinyJob())).json()) as { id: string };
  await runDispatch(job.id);
  const request = peer.dispatched.find((d) => d.job_id === job.id)!;
  expect((await gpuCallback(request, { type: "started", attempt: 1 })).status).toBe(200);
  return { key, request, prefix: r2Keys.jobPrefix(owner, job.id) };
}

/** When the job's output PUT URLs stop working (their signed expiry). */
const urlsExpireMs = (request: GpuJobRequest) => Number(new URL(request.outputs[0]!.put_url).searchParams.get("exp")) * 1000;

describe("a job deleted while its attempt runs", () => {
  it("refuses the attempt's callbacks and uploads, and leaves nothing under its prefix once the PUT URLs have expired", async () => {
    const owner = `o${crypto.randomUUID().slice(0, 8)}`;
    const { key, request, prefix } = await runningJob(owner);
    expect((await api(`/v1/jobs/${request.job_id}`, key, { method: "DELETE" })).status).toBe(204);

    // The attempt is told to stop, by status and by body.
    const progress = await gpuCallback(request, {
      type: "progress",
      attempt: 1,
      progress: { stage: "denoising", step: 2, total_steps: 4 },
    });
    expect(progress.status).toBe(404);
    expect(await progress.json()).toMatchObject({ code: "not_found", cancel: true });
    const put = await SELF.fetch(request.outputs[0]!.put_url, {
      method: "PUT",
      headers: { "content-type": "image/webp" },
      body: webpOf(64, 64) as BufferSource,
    });
    expect(put.status).toBe(404);
    expect(await listPrefix(prefix)).toEqual([]);

    // A PUT that passed its check just before the delete lands just after it.
    await testEnv.FILES.put(`${prefix}outputs/a1/0.webp`, webpOf(64, 64));
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(urlsExpireMs(request) - 1000);
    await runDurableObjectAlarm(stub(request.job_id));
    expect(await listPrefix(prefix)).toHaveLength(1); // the URLs still work: too early to know it is the last write

    vi.setSystemTime(urlsExpireMs(request) + OUTPUT_SWEEP_GRACE_MS);
    expect(await runDurableObjectAlarm(stub(request.job_id))).toBe(true);
    expect(await listPrefix(prefix)).toEqual([]);
    expect(await tablesOf(request.job_id)).toBe(0);
    expect((await api(`/v1/jobs/${request.job_id}`, key)).status).toBe(404);
  });

  it("refuses a superseded attempt's uploads with stale_attempt and takes the current attempt's", async () => {
    const { request } = await runningJob(`o${crypto.randomUUID().slice(0, 8)}`);
    await runInDurableObject(stub(request.job_id), (instance: JobObject) => {
      (instance as unknown as { dispatch: { lease_until_ms: number } }).dispatch.lease_until_ms = Date.now() - 1;
    });
    await runDurableObjectAlarm(stub(request.job_id));
    await runDispatch(request.job_id, 2);
    const second = peer.dispatched.find((d) => d.job_id === request.job_id && d.attempt === 2)!;
    const stale = await SELF.fetch(request.outputs[0]!.put_url, {
      method: "PUT",
      headers: { "content-type": "image/webp" },
      body: webpOf(64, 64) as BufferSource,
    });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { code: string }).code).toBe("stale_attempt");
    expect((await completeJob(second)).status).toBe(200);
  });
});

describe("a job whose retention ends while its output URLs still work", () => {
  it("is swept again once they have expired", async () => {
    const owner = `o${crypto.randomUUID().slice(0, 8)}`;
    const { key } = await createKey(owner);
    const job = (await (await multipartJob(key, tinyJob({ retention_seconds: 3600 }))).json()) as { id: string };
    await runDispatch(job.id);
    const request = peer.dispatched.find((d) => d.job_id === job.id)!;
    // The lease runs out (the GPU function is cut off, not dead) on the last attempt: the job fails at once.
    await runInDurableObject(stub(job.id), (instance: JobObject) => {
      const o = instance as unknown as { dispatch: { lease_until_ms: number }; stored: { core: { attempt: number } } };
      o.dispatch.lease_until_ms = Date.now() - 1;
      o.stored.core.attempt = 3;
    });
    await runDurableObjectAlarm(stub(job.id));
    const failed = (await (await api(`/v1/jobs/${job.id}`, key)).json()) as { status: string; expires_at: string };
    expect(failed.status).toBe("failed");

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.parse(failed.expires_at) + 1);
    await runDurableObjectAlarm(stub(job.id)); // retention ended: files deleted, data_removed
    const prefix = r2Keys.jobPrefix(owner, job.id);
    await testEnv.FILES.put(`${prefix}outputs/a1/0.webp`, webpOf(64, 64)); // the cut-off GPU function's late write
    await runDurableObjectAlarm(stub(job.id));
    expect(await listPrefix(prefix)).toHaveLength(1);
    vi.setSystemTime(urlsExpireMs(request) + OUTPUT_SWEEP_GRACE_MS);
    await runDurableObjectAlarm(stub(job.id));
    expect(await listPrefix(prefix)).toEqual([]);
  });
});
