import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, completeJob, createKey, installPeer, multipartJob, runDispatch, testEnv, tinyJob } from "./helpers.js";

let peer: ReturnType<typeof installPeer>;
beforeEach(() => {
  peer = installPeer();
});
afterEach(() => peer.restore());
const freshOwner = () => `o${crypto.randomUUID().slice(0, 8)}`;
const monitorStub = () => testEnv.POOL_MONITOR.get(testEnv.POOL_MONITOR.idFromName("gpu-pools"));
const jobStub = (id: string) => testEnv.JOBS.get(testEnv.JOBS.idFromName(id));

/** Replaces a Durable Object's queue producer with a recorder (the tests run no queue consumers). */
async function recordQueueSends(stub: DurableObjectStub): Promise<Array<{ job_id: string; attempt: number }>> {
  const sent: Array<{ job_id: string; attempt: number }> = [];
  await runInDurableObject(stub, (instance) => {
    const o = instance as unknown as { env: Record<string, unknown> };
    o.env = { ...o.env, DISPATCH_QUEUE: { send: vi.fn(async (body: { job_id: string; attempt: number }) => void sent.push(body)) } };
  });
  return sent;
}

async function newJob(key: string, seed: number): Promise<string> {
  const res = await multipartJob(key, tinyJob({}, { seed }));
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

describe("dispatch while every GPU is busy", () => {
  it("hands a freed GPU slot to the job that has waited longest, at once", async () => {
    const { key } = await createKey(freshOwner());
    const running = await newJob(key, 1);
    await runDispatch(running);
    const runningRequest = peer.dispatched.find((d) => d.job_id === running)!;

    peer.script.poolStatus.push(429, 429);
    const first = await newJob(key, 2);
    const second = await newJob(key, 3);
    expect((await runDispatch(first)).retryMessages).toHaveLength(1);
    expect((await runDispatch(second)).retryMessages).toHaveLength(1);

    const sent = await recordQueueSends(monitorStub());
    await completeJob(runningRequest);
    await vi.waitFor(() => expect(sent).toEqual([{ job_id: first, attempt: 1 }]));
    // The woken job reaches the GPU and leaves the waiting list; the next freed slot goes to the second.
    expect((await runDispatch(first)).explicitAcks).toHaveLength(1);
    await completeJob(peer.dispatched.find((d) => d.job_id === first)!);
    await vi.waitFor(() =>
      expect(sent).toEqual([
        { job_id: first, attempt: 1 },
        { job_id: second, attempt: 1 },
      ]),
    );
  });

  it("never sends one attempt to a GPU twice (a duplicate or wake-up message after dispatch is stale)", async () => {
    const { key } = await createKey(freshOwner());
    const id = await newJob(key, 4);
    expect((await runDispatch(id)).explicitAcks).toHaveLength(1);
    expect((await runDispatch(id)).explicitAcks).toHaveLength(1);
    expect(peer.dispatched.filter((d) => d.job_id === id)).toHaveLength(1);
  });

  it("sends the dispatch message again when the queue lost it (no try for minutes)", async () => {
    const { key } = await createKey(freshOwner());
    const id = await newJob(key, 5);
    const sent = await recordQueueSends(jobStub(id));
    await runInDurableObject(jobStub(id), (instance) => {
      const o = instance as unknown as { dispatch: { queued_since_ms: number } };
      o.dispatch.queued_since_ms = Date.now() - 6 * 60 * 1000;
    });
    await runDurableObjectAlarm(jobStub(id));
    expect(sent).toEqual([{ job_id: id, attempt: 1 }]);
    expect(((await (await api(`/v1/jobs/${id}`, key)).json()) as { status: string }).status).toBe("queued");
  });
});
