import { listDurableObjectIds, runInDurableObject, SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PUBLIC_LIMITER_SHARDS } from "../../edge/src/durable-objects/public-rate-limiter.js";
import { newId } from "../../edge/src/lib/ids.js";
import { signCallback } from "@ecomid/shared/protocol";
import { api, BASE, createKey, fetchWithVars, installPeer, multipartJob, runDispatch, testEnv, tinyJob } from "./helpers.js";

/**
 * Requests anyone can send without a key must not make the edge create Durable Objects
 * (each one a SQLite database in the local runtime, storage in production): not a job
 * object per made-up job id, not a rate-limit object per client address.
 */
// Any namespace, whatever class it binds.
const objectCount = async (ns: DurableObjectNamespace<any>) => (await listDurableObjectIds(ns)).length;
const randomHex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");

async function anonymousCallback(jobId: string, attempt: string, signature: string) {
  const body = JSON.stringify({ type: "started", attempt: Number(attempt) || 1 });
  return SELF.fetch(`${BASE}/internal/gpu/jobs/${jobId}/callbacks`, {
    method: "POST",
    headers: { "content-type": "application/json", "ecomid-attempt": attempt, "ecomid-signature": signature },
    body,
  });
}

/** A problem answer without its per-request parts, to compare two refusals. */
async function refusalOf(res: Response) {
  const { request_id: _id, ...rest } = (await res.json()) as Record<string, unknown>;
  return { status: res.status, ...rest };
}

let peer: ReturnType<typeof installPeer>;
beforeEach(() => {
  peer = installPeer();
});
afterEach(() => peer.restore());

describe("anonymous GPU callbacks", () => {
  it("with made-up job ids, attempts and signatures reach no job object and all get one generic 403", async () => {
    const before = await objectCount(testEnv.JOBS);
    const answers = [];
    for (let i = 0; i < 40; i++) {
      const id = [newId("job"), `job_${randomHex(4)}`, randomHex(8), "job_%2e%2e"][i % 4]!;
      const attempt = ["1", "2", String(i), "x", ""][i % 5]!;
      const signature = i % 2 ? `t=${Math.floor(Date.now() / 1000)},v1=${randomHex(32)}` : "";
      answers.push(await refusalOf(await anonymousCallback(id, attempt, signature)));
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toMatchObject({ status: 403, code: "signature_invalid", cancel: true });
    expect(await objectCount(testEnv.JOBS)).toBe(before);
  });

  it("answer a real job with a wrong signature exactly as a job that does not exist", async () => {
    const { key } = await createKey(`o${randomHex(4)}`);
    const job = (await (await multipartJob(key, tinyJob())).json()) as { id: string };
    await runDispatch(job.id);
    const dispatched = peer.dispatched.find((d) => d.job_id === job.id)!;
    const forged = await signCallback(randomHex(32), job.id, 1, JSON.stringify({ type: "started", attempt: 1 }));
    const real = await refusalOf(await anonymousCallback(job.id, "1", forged));
    const missing = await refusalOf(await anonymousCallback(newId("job"), "1", forged));
    // A later attempt of the real job, signed with the real attempt-1 secret: refused alike.
    const futureAttempt = await refusalOf(
      await anonymousCallback(
        job.id,
        "2",
        await signCallback(dispatched.callback.secret, job.id, 2, JSON.stringify({ type: "started", attempt: 2 })),
      ),
    );
    expect(real).toEqual(missing);
    expect(futureAttempt).toEqual(missing);
  });
});

describe("job objects", () => {
  const tablesOf = (id: string) =>
    runInDurableObject(
      testEnv.JOBS.get(testEnv.JOBS.idFromName(id)),
      (_instance, state) => state.storage.sql.exec(`SELECT name FROM sqlite_master WHERE type = 'table'`).toArray().length,
    );

  it("create their tables when a job is created, not when an object is reached for an id that is no job", async () => {
    const { key } = await createKey(`o${randomHex(4)}`);
    const nobody = newId("job");
    expect((await api(`/v1/jobs/${nobody}`, key)).status).toBe(404);
    expect((await api(`/v1/jobs/${nobody}/webhook_deliveries`, key)).status).toBe(404);
    await testEnv.JOBS.get(testEnv.JOBS.idFromName(nobody)).get();
    expect(await tablesOf(nobody)).toBe(0);
    const job = (await (await multipartJob(key, tinyJob())).json()) as { id: string };
    expect(await tablesOf(job.id)).toBeGreaterThan(0);
  });

  it("are never reached for a delivery listing of an id that cannot be a job's", async () => {
    const { key } = await createKey(`o${randomHex(4)}`);
    const before = await objectCount(testEnv.JOBS);
    for (let i = 0; i < 10; i++) expect((await api(`/v1/jobs/not-a-job-${randomHex(6)}/webhook_deliveries`, key)).status).toBe(404);
    expect(await objectCount(testEnv.JOBS)).toBe(before);
  });
});

/** With the platform's address header trusted, unless `vars` say otherwise. */
const publicRequest = (
  path: string,
  headers: Record<string, string>,
  vars: Record<string, string> = { CLIENT_ADDRESS_HEADER: "cf-connecting-ip" },
) => fetchWithVars(path, vars, headers);

describe("the public rate limit", () => {
  it("counts many client addresses without an object per address", async () => {
    const guards = await objectCount(testEnv.KEY_GUARDS);
    for (let i = 0; i < 60; i++) {
      const address = i % 2 ? `198.51.${i}.${(i * 7) % 250}` : `2001:db8:${randomHex(2)}:${randomHex(2)}::${i}`;
      expect((await publicRequest("/health", { "cf-connecting-ip": address })).status).toBe(200);
    }
    expect(await objectCount(testEnv.KEY_GUARDS)).toBe(guards);
    expect(await objectCount(testEnv.PUBLIC_LIMITS)).toBeLessThanOrEqual(PUBLIC_LIMITER_SHARDS);
  });

  it("counts the addresses of one IPv6 /64 as one client", async () => {
    const prefix = `2001:db8:${randomHex(2)}:${randomHex(2)}`;
    const small = { CLIENT_ADDRESS_HEADER: "cf-connecting-ip", RATE_LIMIT_PUBLIC_REQUESTS_PER_MINUTE: "2" };
    expect((await publicRequest("/health", { "cf-connecting-ip": `${prefix}::1` }, small)).status).toBe(200);
    expect((await publicRequest("/health", { "cf-connecting-ip": `${prefix}:0:0:0:2` }, small)).status).toBe(200);
    expect((await publicRequest("/health", { "cf-connecting-ip": `${prefix}:ffff:1:2:3` }, small)).status).toBe(429);
  });

  it("trusts no client-sent address where the deployment names no address header", async () => {
    const untrusted = { CLIENT_ADDRESS_HEADER: "", RATE_LIMIT_PUBLIC_REQUESTS_PER_MINUTE: "2" };
    // Other tests of this file share the one bucket; a fresh limit value gives this test its own count.
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await publicRequest("/v1/models", { "cf-connecting-ip": `203.0.113.${i + 1}` }, untrusted)).status);
    expect(statuses).toContain(429);
  });
});
