import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../edge/src/index.js";
import { BLOB_RELEASE_GRACE_MS, sweepReleasedBlobs } from "../../edge/src/jobs/input-blobs.js";
import { afterDispatch, fromProbe, rankPools, type PoolHealth } from "../../edge/src/pools/pool-ranking.js";
import { jobIndexWriter } from "../../edge/src/durable-objects/job-index-writer.js";
import type { StoredJob } from "../../edge/src/jobs/types.js";
import { newId } from "../../edge/src/lib/ids.js";
import { api, createKey, multipartJob, testEnv, tinyJob } from "./helpers.js";

const freshOwner = () => `o${crypto.randomUUID().slice(0, 8)}`;
const health = (url: string, over: Partial<PoolHealth> = {}): PoolHealth => ({
  url,
  healthy: true,
  checked_at_ms: 0,
  consecutive_failures: 0,
  in_flight: 0,
  capacity: 1,
  last_error: null,
  ...over,
});

describe("pool ranking (pure)", () => {
  it("keeps healthy pools only, least loaded first, ties in random order", () => {
    const pools = [
      health("a", { in_flight: 1, capacity: 1 }),
      health("b", { healthy: false }),
      health("c", { in_flight: 0 }),
      health("d", { in_flight: null }),
    ];
    expect(rankPools(pools, () => 0.5)).toEqual(["c", "d", "a"]);
    const ties = [health("x"), health("y")];
    const draws = [0.9, 0.1];
    expect(rankPools(ties, () => draws.shift()!)).toEqual(["y", "x"]);
  });

  it("takes a pool out after repeated dispatch failures, not after one, and a busy pool sorts last", () => {
    const once = afterDispatch(health("a"), "failed", 1, "connection refused");
    expect(once.healthy).toBe(true);
    const twice = afterDispatch(once, "failed", 2, "connection refused");
    expect(twice).toMatchObject({ healthy: false, consecutive_failures: 2, last_error: "connection refused" });
    expect(afterDispatch(twice, "accepted", 3)).toMatchObject({ healthy: true, consecutive_failures: 0 });
    expect(rankPools([afterDispatch(health("full", { capacity: 2 }), "busy", 1), health("idle", { capacity: 2 })])).toEqual([
      "idle",
      "full",
    ]);
  });

  it("counts only a 200 with status ok from /health as ready", () => {
    expect(fromProbe("p", 1, { status: 200, body: { status: "ok", in_flight: 1, capacity: 2 } })).toMatchObject({
      healthy: true,
      in_flight: 1,
      capacity: 2,
    });
    expect(fromProbe("p", 1, { status: 503, body: { status: "draining" } })).toMatchObject({
      healthy: false,
      last_error: "health 503 (draining)",
    });
    expect(fromProbe("p", 1, { status: 200, body: { status: "loading" } }).healthy).toBe(false);
    expect(fromProbe("p", 1, { error: "timeout" }).healthy).toBe(false);
  });
});

/** Several GPU pools behind the worker's outbound fetch, each with its own health and dispatch answers. */
function installPools(pools: Record<string, { health: number | "down"; dispatch: number | "down" }>) {
  const received: Record<string, string[]> = {};
  const probes: Record<string, number> = {};
  const real = globalThis.fetch;
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const pool = pools[url.origin];
    if (!pool) return real(input, init);
    if (url.pathname === "/health") {
      probes[url.origin] = (probes[url.origin] ?? 0) + 1;
      if (pool.health === "down") throw new TypeError("connection refused");
      return Response.json({ status: pool.health === 200 ? "ok" : "draining", in_flight: 0, capacity: 1 }, { status: pool.health });
    }
    if (pool.dispatch === "down") throw new TypeError("connection refused");
    if (pool.dispatch === 202) (received[url.origin] ??= []).push(((await req.json()) as { job_id: string }).job_id);
    return new Response(pool.dispatch === 409 ? '{"code":"bundle_mismatch"}' : "{}", {
      status: pool.dispatch,
      headers: pool.dispatch === 429 ? { "retry-after": "7" } : {},
    });
  });
  return { received, probes, restore: () => spy.mockRestore() };
}

/** Runs the dispatch consumer with `pools` configured for the tiny model. */
async function dispatchWithPools(jobId: string, poolUrls: string[]) {
  const batch = createMessageBatch("ecomid-dispatch", [
    { id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: { job_id: jobId, attempt: 1 } },
  ]);
  const ctx = createExecutionContext();
  // A fresh env object gets its own parsed config (the config cache is keyed by the env object).
  const withPools = { ...testEnv, GPU_POOLS: JSON.stringify({ "ecomid-tiny": poolUrls }) };
  await worker.queue(batch as MessageBatch<unknown>, withPools as never, ctx);
  return getQueueResult(batch, ctx);
}

async function newJob(key: string, seed: number): Promise<string> {
  const res = await multipartJob(key, tinyJob({}, { seed }));
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

describe("several GPU pools", () => {
  let pools: ReturnType<typeof installPools> | null = null;
  afterEach(() => pools?.restore());

  it("sends nothing to a pool whose health check fails", async () => {
    const tag = crypto.randomUUID().slice(0, 6);
    const sick = `http://sick-${tag}.test`;
    const well = `http://well-${tag}.test`;
    pools = installPools({ [sick]: { health: "down", dispatch: 202 }, [well]: { health: 200, dispatch: 202 } });
    const { key } = await createKey(freshOwner());
    for (let seed = 0; seed < 4; seed++) {
      const result = await dispatchWithPools(await newJob(key, seed), [sick, well]);
      expect(result.explicitAcks).toHaveLength(1);
    }
    expect(pools.received[well]).toHaveLength(4);
    expect(pools.received[sick]).toBeUndefined();
    // Health is remembered for a while, not probed on every dispatch.
    expect(pools.probes[well]).toBe(1);
  });

  it("tries the next healthy pool at once when one refuses the connection or is busy, and retries later when all are", async () => {
    const tag = crypto.randomUUID().slice(0, 6);
    const broken = `http://broken-${tag}.test`;
    const busy = `http://busy-${tag}.test`;
    pools = installPools({ [broken]: { health: 200, dispatch: "down" }, [busy]: { health: 200, dispatch: 429 } });
    const { key } = await createKey(freshOwner());
    const id = await newJob(key, 1);
    const result = await dispatchWithPools(id, [broken, busy]);
    expect(result.retryMessages).toHaveLength(1);
    expect(result.explicitAcks).toHaveLength(0);
    const job = (await (await api(`/v1/jobs/${id}`, key)).json()) as { status: string; substatus: string };
    expect(job).toMatchObject({ status: "queued", substatus: "waiting_for_capacity" });
    expect((await dispatchWithPools(id, [broken, busy])).retryMessages).toHaveLength(1);

    // The pool that refused connections twice in a row is taken out; the busy one stays in.
    pools.restore();
    pools = installPools({ [broken]: { health: 200, dispatch: 202 }, [busy]: { health: 200, dispatch: 202 } });
    await dispatchWithPools(await newJob(key, 2), [broken, busy]);
    const second = await dispatchWithPools(id, [broken, busy]);
    expect(second.explicitAcks).toHaveLength(1);
    expect(pools.received[busy]).toHaveLength(2);
    expect(pools.received[broken]).toBeUndefined();
  });

  it("passes over a pool that serves another model bundle", async () => {
    const tag = crypto.randomUUID().slice(0, 6);
    const stale = `http://stale-${tag}.test`;
    const current = `http://current-${tag}.test`;
    pools = installPools({ [stale]: { health: 200, dispatch: 409 }, [current]: { health: 200, dispatch: 202 } });
    const { key } = await createKey(freshOwner());
    for (let seed = 0; seed < 3; seed++) {
      expect((await dispatchWithPools(await newJob(key, 10 + seed), [stale, current])).explicitAcks).toHaveLength(1);
    }
    expect(pools.received[current]).toHaveLength(3);
  });

  it("waits with backoff when no pool of the model is healthy", async () => {
    const tag = crypto.randomUUID().slice(0, 6);
    const draining = `http://draining-${tag}.test`;
    pools = installPools({ [draining]: { health: 503, dispatch: 202 } });
    const { key } = await createKey(freshOwner());
    const result = await dispatchWithPools(await newJob(key, 3), [draining]);
    expect(result.retryMessages).toHaveLength(1);
    expect(pools.received[draining]).toBeUndefined();
  });
});

describe("listing index", () => {
  it("lists every job right after concurrent creations (rows are batched, and a listing flushes them)", async () => {
    const owner = freshOwner();
    // Two keys of one owner: each key's in-flight cap is 8.
    const keys = [(await createKey(owner)).key, (await createKey(owner)).key];
    const ids = await Promise.all(Array.from({ length: 14 }, (_, seed) => newJob(keys[seed % 2]!, seed)));
    const key = keys[0]!;
    const listed = (await (await api("/v1/jobs?limit=50", key)).json()) as { data: Array<{ id: string }> };
    expect(listed.data.map((j) => j.id).sort()).toEqual([...ids].sort());
  });

  it("a listing waits for rows still queued in the index writer (a backlog of several batches)", async () => {
    const owner = freshOwner();
    const { key } = await createKey(owner);
    const first = await newJob(key, 1);
    await jobIndexWriter(testEnv).flush();
    const row = await env.DB.prepare("SELECT body FROM jobs WHERE id = ?").bind(first).first<{ body: string }>();
    const template = JSON.parse(row!.body) as StoredJob;
    // More rows than one D1 batch takes, handed over without waiting: while the first batch is
    // written the rest queue in the writer, so a listing that did not flush would miss them.
    const ids = Array.from({ length: 250 }, (_, i) => newId("job", Date.now() + i));
    const writer = jobIndexWriter(testEnv);
    const handed = ids.map((id) => writer.upsert({ ...template, core: { ...template.core, id } }));
    const listed = new Set<string>();
    let cursor: string | null = null;
    do {
      const page = (await (await api(`/v1/jobs?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, key)).json()) as {
        data: Array<{ id: string }>;
        has_more: boolean;
        next_cursor: string | null;
      };
      for (const j of page.data) listed.add(j.id);
      cursor = page.has_more ? page.next_cursor : null;
    } while (cursor);
    expect([...listed].sort()).toEqual([first, ...ids].sort());
    await Promise.all(handed);
  });
});

describe("input blobs shared by content hash", () => {
  it("keeps a freshly written blob through the grace period, then deletes it only if nothing uses it", async () => {
    const owner = freshOwner();
    const { key } = await createKey(owner);
    const first = await newJob(key, 1);
    expect((await api(`/v1/jobs/${first}`, key, { method: "DELETE" })).status).toBe(204);
    // A job created just before may not be in the index yet: the delete waits for the sweep.
    expect((await env.FILES.list({ prefix: `blobs/${owner}/` })).objects).toHaveLength(1);
    const second = await newJob(key, 2); // the same image again, while the release is pending
    const later = Date.now() + BLOB_RELEASE_GRACE_MS + 60_000;
    await sweepReleasedBlobs(testEnv, later);
    expect((await env.FILES.list({ prefix: `blobs/${owner}/` })).objects).toHaveLength(1);
    expect((await api(`/v1/jobs/${second}`, key, { method: "DELETE" })).status).toBe(204);
    await sweepReleasedBlobs(testEnv, later);
    expect((await env.FILES.list({ prefix: `blobs/${owner}/` })).objects).toEqual([]);
  });
});
