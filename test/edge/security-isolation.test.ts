import { SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  api,
  completeJob,
  createKey,
  HOOK,
  installPeer,
  multipartJob,
  pngOf,
  runDispatch,
  runWebhookDeliveries,
  tinyJob,
} from "./helpers.js";

const freshOwner = () => `o${crypto.randomUUID().slice(0, 8)}`;
type Problem = { code: string; detail: string };

let peer: ReturnType<typeof installPeer>;
beforeEach(() => {
  peer = installPeer();
});
afterEach(() => peer.restore());

async function succeededJob(key: string, overrides: Record<string, unknown> = {}) {
  const job = (await (await multipartJob(key, tinyJob(overrides))).json()) as { id: string };
  await runDispatch(job.id);
  await completeJob(peer.dispatched.find((d) => d.job_id === job.id)!);
  return job.id;
}

describe("per-owner isolation (beyond isolation-list-delete.test.ts)", () => {
  it("answers another owner's job exactly as a job that does not exist: 404, nothing of it in the body", async () => {
    const ownerA = freshOwner();
    const { key: a } = await createKey(ownerA);
    const { key: b } = await createKey(freshOwner());
    const id = await succeededJob(a, { metadata: { order: "secret-order-4711" } });
    const missing = "job_00000000000000000000000000";
    for (const path of ["", "/events", "/outputs/0", "/webhook_deliveries"]) {
      const theirs = await api(`/v1/jobs/${id}${path}`, b, { redirect: "manual" });
      const none = await api(`/v1/jobs/${missing}${path}`, b, { redirect: "manual" });
      expect(theirs.status, path).toBe(404);
      expect(none.status, path).toBe(404);
      const [t, n] = (await Promise.all([theirs.json(), none.json()])) as [Problem, Problem];
      expect(t.code).toBe(n.code);
      expect(t.detail.replace(id, "ID")).toBe(n.detail.replace(missing, "ID"));
      expect(theirs.headers.get("location")).toBeNull();
      const text = JSON.stringify(t);
      for (const leak of [ownerA, "secret-order-4711", "a portrait", "/files/"]) expect(text, path).not.toContain(leak);
    }
  });

  it("keeps webhook deliveries and their redelivery to their owner", async () => {
    const { key: a } = await createKey(freshOwner());
    const { key: b } = await createKey(freshOwner());
    const idA = await succeededJob(a, { webhook: { url: HOOK } });
    const idB = await succeededJob(b, { webhook: { url: HOOK }, metadata: { other: "1" } });
    await runWebhookDeliveries(idA);
    const list = (await (await api(`/v1/jobs/${idA}/webhook_deliveries`, a)).json()) as { data: Array<{ id: string }> };
    const delivery = list.data[0]!.id;
    const sent = peer.webhooks.length;
    // B names A's job and delivery, or its own job with A's delivery: both unknown to B.
    for (const path of [
      `/v1/jobs/${idA}/webhook_deliveries/${delivery}/redeliver`,
      `/v1/jobs/${idB}/webhook_deliveries/${delivery}/redeliver`,
    ]) {
      const res = await api(path, b, { method: "POST" });
      expect(res.status, path).toBe(404);
      expect(JSON.stringify(await res.json())).not.toContain(HOOK);
    }
    // A names its own delivery under B's job: still 404.
    expect((await api(`/v1/jobs/${idB}/webhook_deliveries/${delivery}/redeliver`, a, { method: "POST" })).status).toBe(404);
    expect(peer.webhooks.length).toBe(sent);
    expect((await api(`/v1/jobs/${idA}/webhook_deliveries/${delivery}/redeliver`, a, { method: "POST" })).status).toBe(202);
  });

  it("scopes Idempotency-Key to the key that sent it: another owner's same key and body make a new job", async () => {
    const { key: a } = await createKey(freshOwner());
    const { key: b } = await createKey(freshOwner());
    const headers = { "idempotency-key": "order-42" };
    const first = await multipartJob(a, tinyJob({}, { seed: 99 }), pngOf(512, 512), headers);
    expect(first.status).toBe(201);
    const replay = await multipartJob(a, tinyJob({}, { seed: 99 }), pngOf(512, 512), headers);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const other = await multipartJob(b, tinyJob({}, { seed: 99 }), pngOf(512, 512), headers);
    expect(other.status).toBe(201);
    expect(other.headers.get("idempotent-replayed")).toBeNull();
    const [ja, jb] = (await Promise.all([first.json(), other.json()])) as Array<{ id: string }>;
    expect(jb!.id).not.toBe(ja!.id);
    expect((await api(`/v1/jobs/${ja!.id}`, b)).status).toBe(404);
  });

  it("never serves one owner's cached result, outputs or uploads to another", async () => {
    const { key: a } = await createKey(freshOwner());
    const ownerB = freshOwner();
    const { key: b } = await createKey(ownerB);
    const idA = await succeededJob(a);
    const jobA = (await (await api(`/v1/jobs/${idA}`, a)).json()) as { output: Array<{ url: string }> };
    // The same submission by B is no cache hit, and nothing in B's job points at A's objects.
    const jobB = (await (await multipartJob(b, tinyJob())).json()) as { id: string; cached: boolean; output: unknown[] | null };
    expect(jobB.cached).toBe(false);
    expect(JSON.stringify(jobB)).not.toContain(new URL(jobA.output[0]!.url).pathname);
    // An upload of A's is invisible to B.
    const up = (await (await api("/v1/uploads", a, { method: "POST", json: { content_type: "image/png", bytes: 1000 } })).json()) as {
      id: string;
    };
    expect((await api(`/v1/uploads/${up.id}`, b)).status).toBe(404);
    // A signed URL is A's alone: B's namespace in the same path fails the signature.
    const stolen = new URL(jobA.output[0]!.url);
    stolen.pathname = stolen.pathname.replace(/\/jobs\/[^/]+\//, `/jobs/${ownerB}/`);
    expect((await SELF.fetch(stolen.toString())).status).toBe(403);
  });

  it("gives each owner its own webhook secret; rotating one leaves the other alone", async () => {
    const { key: a } = await createKey(freshOwner());
    const { key: b } = await createKey(freshOwner());
    const secretOf = async (k: string) => ((await (await api("/v1/webhook_secret", k)).json()) as { secret: string }).secret;
    const [sa, sb] = [await secretOf(a), await secretOf(b)];
    expect(sa).not.toBe(sb);
    expect((await api("/v1/webhook_secret/rotate", b, { method: "POST" })).status).toBe(200);
    expect(await secretOf(a)).toBe(sa);
    expect(await secretOf(b)).not.toBe(sb);
  });
});
