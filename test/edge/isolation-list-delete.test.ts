import { env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { api, completeJob, createKey, installPeer, multipartJob, runDispatch, tinyJob } from "./helpers.js";
import { BLOB_RELEASE_GRACE_MS, sweepReleasedBlobs } from "../../edge/src/jobs/input-blobs.js";

let peer: ReturnType<typeof installPeer>;
beforeEach(() => {
  peer = installPeer();
});
afterEach(() => peer.restore());
const freshOwner = () => `o${crypto.randomUUID().slice(0, 8)}`;

async function succeededJob(key: string, seed: number) {
  const job = (await (await multipartJob(key, tinyJob({}, { seed }))).json()) as { id: string };
  await runDispatch(job.id);
  await completeJob(peer.dispatched.find((d) => d.job_id === job.id)!);
  return job.id;
}

describe("per-owner isolation", () => {
  it("hides one owner's jobs, events, outputs and deliveries from another", async () => {
    const { key: mine } = await createKey(freshOwner());
    const { key: theirs } = await createKey(freshOwner());
    const id = await succeededJob(mine, 1);
    for (const [method, path] of [
      ["GET", `/v1/jobs/${id}`],
      ["GET", `/v1/jobs/${id}/events`],
      ["GET", `/v1/jobs/${id}/outputs/0`],
      ["GET", `/v1/jobs/${id}/webhook_deliveries`],
      ["POST", `/v1/jobs/${id}/cancel`],
      ["DELETE", `/v1/jobs/${id}`],
    ] as const) {
      const res = await api(path, theirs, { method, redirect: "manual" });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect(((await (await api("/v1/jobs", theirs)).json()) as { data: unknown[] }).data).toEqual([]);
    expect((await api(`/v1/jobs/${id}`, mine)).status).toBe(200);
  });
});

describe("listing", () => {
  it("pages newest first with a cursor and filters by status", async () => {
    const { key } = await createKey(freshOwner());
    const ids: string[] = [];
    for (let seed = 0; seed < 5; seed++) ids.push(((await (await multipartJob(key, tinyJob({}, { seed }))).json()) as { id: string }).id);
    await api(`/v1/jobs/${ids[1]}/cancel`, key, { method: "POST" });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (await api(`/v1/jobs?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, key)).json()) as {
        data: Array<{ id: string }>;
        next_cursor: string | null;
        has_more: boolean;
      };
      seen.push(...page.data.map((j) => j.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const canceled = (await (await api("/v1/jobs?status=canceled", key)).json()) as { data: Array<{ id: string }> };
    expect(canceled.data.map((j) => j.id)).toEqual([ids[1]]);
    // A cursor is a position (ms.job id): anything else is refused by the query's schema.
    const bad = await api("/v1/jobs?cursor=garbage", key);
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { errors: Array<{ pointer: string }> }).errors[0]!.pointer).toBe("/query/cursor");
    // Any position is one to page on from, even one no page ended at.
    expect((await api(`/v1/jobs?cursor=1.job_${"0".repeat(26)}`, key)).status).toBe(200);
    expect((await api("/v1/jobs?status=lost", key)).status).toBe(422);
  });

  it("lists jobs changed after an instant, oldest change first, to reconcile missed webhooks", async () => {
    const { key } = await createKey(freshOwner());
    const a = ((await (await multipartJob(key, tinyJob({}, { seed: 1 }))).json()) as { id: string }).id;
    const b = ((await (await multipartJob(key, tinyJob({}, { seed: 2 }))).json()) as { id: string }).id;
    const mark = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await api(`/v1/jobs/${a}/cancel`, key, { method: "POST" });
    const changed = (await (await api(`/v1/jobs?updated_after=${encodeURIComponent(mark)}`, key)).json()) as {
      data: Array<{ id: string; status: string }>;
    };
    expect(changed.data.map((j) => j.id)).toEqual([a]);
    expect(changed.data[0]!.status).toBe("canceled");
    void b;
  });
});

describe("delete", () => {
  it("purges the job's inputs and outputs from R2 and the job from the API", async () => {
    const owner = freshOwner();
    const { key } = await createKey(owner);
    const id = await succeededJob(key, 3);
    expect((await env.FILES.list({ prefix: `jobs/${owner}/${id}/` })).objects).toHaveLength(1); // the output
    expect((await env.FILES.list({ prefix: `blobs/${owner}/` })).objects).toHaveLength(1); // the reference image
    expect((await api(`/v1/jobs/${id}`, key, { method: "DELETE" })).status).toBe(204);
    expect((await env.FILES.list({ prefix: `jobs/${owner}/${id}/` })).objects).toEqual([]);
    // The input was written moments ago, so its delete waits for the grace period (see pools-and-index.test.ts).
    await sweepReleasedBlobs(env as never, Date.now() + BLOB_RELEASE_GRACE_MS + 60_000);
    expect((await env.FILES.list({ prefix: `blobs/${owner}/` })).objects).toEqual([]);
    expect((await api(`/v1/jobs/${id}`, key)).status).toBe(404);
    expect(((await (await api("/v1/jobs", key)).json()) as { data: unknown[] }).data).toEqual([]);
  });

  it("stores a reference image once per owner and keeps it while another job still uses it", async () => {
    const owner = freshOwner();
    const { key } = await createKey(owner);
    const first = await succeededJob(key, 5);
    const second = await succeededJob(key, 6);
    expect((await env.FILES.list({ prefix: `blobs/${owner}/` })).objects).toHaveLength(1);
    await api(`/v1/jobs/${first}`, key, { method: "DELETE" });
    expect((await env.FILES.list({ prefix: `blobs/${owner}/` })).objects).toHaveLength(1);
    await api(`/v1/jobs/${second}`, key, { method: "DELETE" });
    await sweepReleasedBlobs(env as never, Date.now() + BLOB_RELEASE_GRACE_MS + 60_000);
    expect((await env.FILES.list({ prefix: `blobs/${owner}/` })).objects).toHaveLength(0);
  });

  it("purges outputs at the end of retention, keeping the job record", async () => {
    const owner = freshOwner();
    const { key } = await createKey(owner);
    const id = await succeededJob(key, 4);
    const { runDurableObjectAlarm, runInDurableObject } = await import("cloudflare:test");
    const stub = env.JOBS.get(env.JOBS.idFromName(id));
    await runInDurableObject(stub, async (instance) => {
      (instance as unknown as { stored: { core: { expires_at: string } } }).stored.core.expires_at = new Date(Date.now() - 1).toISOString();
    });
    await runDurableObjectAlarm(stub);
    const job = (await (await api(`/v1/jobs/${id}`, key)).json()) as { data_removed: boolean; output: unknown[] };
    expect(job).toMatchObject({ data_removed: true, output: [] });
    expect((await env.FILES.list({ prefix: `jobs/${owner}/${id}/` })).objects).toEqual([]);
    const gone = await api(`/v1/jobs/${id}/outputs/0`, key);
    expect(gone.status).toBe(410);
  });

  it("purges uploads nobody used once they expire", async () => {
    const { purgeExpiredUploads } = await import("../../edge/src/jobs/purge-uploads.js");
    const { key } = await createKey(freshOwner());
    const up = (await (await api("/v1/uploads", key, { method: "POST", json: { content_type: "image/png", bytes: 10 } })).json()) as {
      id: string;
    };
    expect(await purgeExpiredUploads(env as never, new Date(Date.now() + 2 * 86400 * 1000).toISOString())).toBeGreaterThanOrEqual(1);
    expect((await api(`/v1/uploads/${up.id}`, key)).status).toBe(404);
  });
});
