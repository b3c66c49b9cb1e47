import { env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { JobObject } from "../../edge/src/durable-objects/job-object.js";
import { sha256Hex } from "@ecomid/shared/crypto";
import type { GpuJobRequest } from "@ecomid/shared/protocol";
import { signCallback } from "@ecomid/shared/protocol";
import { api, BASE, createKey, gpuCallback, installPeer, multipartJob, runDispatch, testEnv, tinyJob } from "./helpers.js";

const freshOwner = () => `o${crypto.randomUUID().slice(0, 8)}`;
const codeOf = async (res: Response) => ((await res.json()) as { code: string }).code;

let peer: ReturnType<typeof installPeer>;
beforeEach(() => {
  peer = installPeer();
});
afterEach(() => peer.restore());

describe("API keys", () => {
  it("stores the SHA-256 of the key and finds the key by it; a near miss is unknown", async () => {
    const { key, id } = await createKey(freshOwner());
    const row = await env.DB.prepare(`SELECT * FROM api_keys WHERE id = ?`).bind(id).first<Record<string, unknown>>();
    expect(row!.key_hash).toBe(await sha256Hex(key));
    expect(Object.values(row!)).not.toContain(key);
    expect((await api("/v1/jobs", key)).status).toBe(200);
    const last = key.at(-1)!;
    const nearMiss = key.slice(0, -1) + (last === "a" ? "b" : "a");
    const res = await api("/v1/jobs", nearMiss);
    expect(res.status).toBe(401);
    expect(await codeOf(res)).toBe("unauthorized");
  });

  it("refuses a revoked key on its very next request, though this isolate had just accepted it, and keeps refusing", async () => {
    const { key: admin } = await createKey(freshOwner(), ["admin"]);
    const owner = freshOwner();
    const { key: revoked, id } = await createKey(owner);
    const { key: sibling } = await createKey(owner);
    expect((await api("/v1/jobs", revoked)).status).toBe(200); // now in the isolate's key cache
    expect((await api(`/v1/admin/keys/${id}/revoke`, admin, { method: "POST" })).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const res = await api("/v1/jobs", revoked);
      expect(res.status).toBe(401);
      expect(["key_revoked", "unauthorized"]).toContain(await codeOf(res));
    }
    expect((await multipartJob(revoked, tinyJob())).status).toBe(401);
    // Only that key: the owner's other key works on.
    expect((await api("/v1/jobs", sibling)).status).toBe(200);
  });

  it("refuses a key revoked in the database before this isolate saw it", async () => {
    const { key, id } = await createKey(freshOwner());
    await env.DB.prepare(`UPDATE api_keys SET revoked_at = ? WHERE id = ?`).bind(new Date().toISOString(), id).run();
    expect((await api("/v1/jobs", key)).status).toBe(401);
  });
});

describe("GPU callbacks", () => {
  const stub = (id: string) => testEnv.JOBS.get(testEnv.JOBS.idFromName(id));
  async function submitAndDispatch(key: string) {
    const job = (await (await multipartJob(key, tinyJob())).json()) as { id: string };
    await runDispatch(job.id);
    return peer.dispatched.find((d) => d.job_id === job.id && d.attempt === 1)!;
  }
  async function nextAttempt(first: GpuJobRequest) {
    await runInDurableObject(stub(first.job_id), async (instance: JobObject) => {
      (instance as unknown as { dispatch: { lease_until_ms: number } }).dispatch.lease_until_ms = Date.now() - 1;
    });
    await runDurableObjectAlarm(stub(first.job_id));
    await runDispatch(first.job_id, 2);
    return peer.dispatched.find((d) => d.job_id === first.job_id && d.attempt === 2)!;
  }
  /** A callback with chosen attempt header, signing secret, job path and timestamp. */
  async function post(path: string, attempt: number, secret: string, signedJob: string, body: object, at = Math.floor(Date.now() / 1000)) {
    const raw = JSON.stringify(body);
    return SELF.fetch(`${BASE}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "ecomid-attempt": String(attempt),
        "ecomid-signature": await signCallback(secret, signedJob, attempt, raw, at),
      },
      body: raw,
    });
  }
  const pathOf = (r: GpuJobRequest) => new URL(r.callback.url).pathname;

  it("derives a different secret per job and per attempt, and the dispatch carries none of the edge's own secrets", async () => {
    const { key } = await createKey(freshOwner());
    const a = await submitAndDispatch(key);
    const b = await submitAndDispatch(key);
    const a2 = await nextAttempt(a);
    expect(new Set([a.callback.secret, b.callback.secret, a2.callback.secret]).size).toBe(3);
    const wire = JSON.stringify(peer.dispatched);
    expect(wire).not.toContain("test-signing-secret-0123456789abcdef");
    expect(wire).not.toContain("test-dispatch-token-0123456789");
    expect(wire).not.toContain(key);
  });

  it("refuses an old attempt's secret, its late callbacks, another job's secret, a replayed signature and a stale timestamp", async () => {
    const { key } = await createKey(freshOwner());
    const first = await submitAndDispatch(key);
    const other = await submitAndDispatch(key);
    const second = await nextAttempt(first);
    const started = (attempt: number) => ({ type: "started", attempt });

    // The attempt-1 secret signing an attempt-2 callback: not this attempt's key.
    const oldSecret = await post(pathOf(first), 2, first.callback.secret, first.job_id, started(2));
    expect(oldSecret.status).toBe(403);
    expect(await codeOf(oldSecret)).toBe("signature_invalid");
    // A correctly signed callback of the superseded attempt: refused, and told to stop.
    const late = await gpuCallback(first, { type: "progress", attempt: 1, progress: { stage: "denoising", step: 3, total_steps: 4 } });
    expect(late.status).toBe(409);
    expect(await late.json()).toMatchObject({ code: "stale_attempt", cancel: true });
    // Another job's secret, and a signature made for another job replayed here.
    expect(await codeOf(await post(pathOf(second), 2, other.callback.secret, second.job_id, started(2)))).toBe("signature_invalid");
    expect(await codeOf(await post(pathOf(second), 2, second.callback.secret, other.job_id, started(2)))).toBe("signature_invalid");
    // A future attempt, and a signature older than the tolerance.
    expect((await post(pathOf(second), 3, second.callback.secret, second.job_id, started(3))).status).toBe(403);
    const stale = await post(pathOf(second), 2, second.callback.secret, second.job_id, started(2), Math.floor(Date.now() / 1000) - 3600);
    expect(stale.status).toBe(403);
    expect(await codeOf(stale)).toBe("signature_expired");
    // No signature at all.
    const unsigned = await SELF.fetch(`${BASE}${pathOf(second)}`, {
      method: "POST",
      headers: { "content-type": "application/json", "ecomid-attempt": "2" },
      body: JSON.stringify(started(2)),
    });
    expect(unsigned.status).toBe(403);

    // None of it moved the job: it is still waiting on attempt 2, which the current secret can start.
    const job = (await (await api(`/v1/jobs/${first.job_id}`, key)).json()) as { status: string; attempt: number };
    expect(job).toMatchObject({ status: "queued", attempt: 2 });
    expect((await gpuCallback(second, { type: "started", attempt: 2 })).status).toBe(200);
    expect(((await (await api(`/v1/jobs/${first.job_id}`, key)).json()) as { status: string }).status).toBe("running");
  });
});
