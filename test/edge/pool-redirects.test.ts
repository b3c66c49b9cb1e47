import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, createKey, gpuCallback, installPeer, multipartJob, POOL, runDispatch, testEnv, tinyJob, waitFor } from "./helpers.js";

/**
 * Requests to GPU pools carry the dispatch token, and dispatches carry signed URLs and
 * the attempt's callback secret: a pool's redirect is never followed, and counts as a
 * failure of that pool.
 */
let peer: ReturnType<typeof installPeer>;
beforeEach(() => {
  peer = installPeer();
});
afterEach(() => peer.restore());

const ELSEWHERE = "https://collector.example";
const freshOwner = () => `o${crypto.randomUUID().slice(0, 8)}`;

// The cancel case runs first: the redirect case leaves the pool's health probe failed for the file's other tests.
describe("a GPU pool that redirects", () => {
  it("gets its cancel without following a redirect", async () => {
    const { key } = await createKey(freshOwner());
    const job = (await (await multipartJob(key, tinyJob())).json()) as { id: string };
    await runDispatch(job.id);
    const request = peer.dispatched.find((d) => d.job_id === job.id)!;
    await gpuCallback(request, { type: "started", attempt: 1 });
    peer.script.poolRedirectTo = ELSEWHERE;
    const before = peer.poolRedirectModes.length;
    expect((await api(`/v1/jobs/${job.id}/cancel`, key, { method: "POST" })).status).toBe(200);
    await waitFor(() => peer.poolRedirectModes.length > before, "the cancel sent to the pool");
    expect(peer.poolRedirectModes.slice(before)).toEqual(["manual"]);
    expect(peer.elsewhere).toEqual([]);
  });

  it("gets no dispatch followed elsewhere: the job waits and the pool counts the redirect as a failure", async () => {
    const { key } = await createKey(freshOwner());
    const job = (await (await multipartJob(key, tinyJob())).json()) as { id: string };
    peer.script.poolRedirectTo = ELSEWHERE;
    const result = await runDispatch(job.id);
    expect(result.retryMessages).toHaveLength(1);
    expect(peer.dispatched).toEqual([]);
    expect(peer.elsewhere).toEqual([]);
    expect(peer.poolRedirectModes.length).toBeGreaterThan(0);
    expect(new Set(peer.poolRedirectModes)).toEqual(new Set(["manual"]));
    const pools = await testEnv.POOL_MONITOR.get(testEnv.POOL_MONITOR.idFromName("gpu-pools")).snapshot();
    expect(pools.find((p) => p.url === POOL)?.last_error).toMatch(/redirect/);
    expect(((await (await api(`/v1/jobs/${job.id}`, key)).json()) as { status: string }).status).toBe("queued");
  });
});
