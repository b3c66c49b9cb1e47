import { env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { verifyWebhook, WebhookVerificationError } from "@ecomid/shared/sdk";
import { nextRetryDelaySeconds, WEBHOOK_RETRY_DELAYS_SECONDS } from "../../edge/src/webhooks/schedule.js";
import {
  api,
  completeJob,
  createKey,
  gpuCallback,
  HOOK,
  installPeer,
  multipartJob,
  runDispatch,
  runWebhookDeliveries,
  tinyJob,
} from "./helpers.js";

let peer: ReturnType<typeof installPeer>;
beforeEach(() => {
  peer = installPeer();
});
afterEach(() => peer.restore());
const freshOwner = () => `o${crypto.randomUUID().slice(0, 8)}`;

async function runToSuccess(key: string, body = tinyJob()) {
  const res = await multipartJob(key, body);
  expect(res.status).toBe(201);
  const job = (await res.json()) as { id: string; status: string; cached: boolean };
  if (job.status === "succeeded") return job;
  await runDispatch(job.id);
  const request = peer.dispatched.find((d) => d.job_id === job.id)!;
  await gpuCallback(request, { type: "started", attempt: 1 });
  for (let step = 1; step <= 2; step++) {
    await gpuCallback(request, {
      type: "progress",
      attempt: 1,
      progress: { stage: "denoising", step, total_steps: 2 },
      preview: "data:image/png;base64,AAAA",
    });
  }
  await completeJob(request);
  return job;
}

describe("result cache", () => {
  it("completes an identical submission at once, marked cached, without a GPU", async () => {
    const { key } = await createKey(freshOwner());
    await runToSuccess(key);
    const before = peer.dispatched.length;
    const res = await multipartJob(key, tinyJob());
    const again = (await res.json()) as { id: string; status: string; cached: boolean; output: Array<{ url: string }> };
    expect(again).toMatchObject({ status: "succeeded", cached: true });
    expect(again.output).toHaveLength(1);
    expect((await runDispatch(again.id)).explicitAcks).toHaveLength(1); // any stray message is stale
    expect(peer.dispatched.length).toBe(before);
    const out = await api(`/v1/jobs/${again.id}/outputs/0`, key, { redirect: "manual" });
    expect(out.status).toBe(302);
  });

  it("misses on another seed, another image or another owner", async () => {
    const owner = freshOwner();
    const { key } = await createKey(owner);
    await runToSuccess(key);
    const otherSeed = (await (await multipartJob(key, tinyJob({}, { seed: 8 }))).json()) as { cached: boolean };
    expect(otherSeed.cached).toBe(false);
    const { key: otherOwner } = await createKey(freshOwner());
    const theirs = (await (await multipartJob(otherOwner, tinyJob())).json()) as { cached: boolean };
    expect(theirs.cached).toBe(false);
  });
});

describe("Server-Sent Events", () => {
  it("replays the job's events in order and resumes after Last-Event-ID", async () => {
    const { key } = await createKey(freshOwner());
    const job = await runToSuccess(key);
    const res = await api(`/v1/jobs/${job.id}/events`, key);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const text = await res.text();
    const types = [...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
    expect(types).toEqual(["job.queued", "job.started", "job.progress", "job.progress", "job.succeeded"]);
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual([1, 2, 3, 4, 5]);
    const resumed = await (await api(`/v1/jobs/${job.id}/events`, key, { headers: { "last-event-id": "3" } })).text();
    expect([...resumed.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual([4, 5]);
  });

  it("streams live events to a client that is connected while the job runs", async () => {
    const { key } = await createKey(freshOwner());
    const created = (await (await multipartJob(key, tinyJob())).json()) as { id: string };
    await runDispatch(created.id);
    const request = peer.dispatched.find((d) => d.job_id === created.id)!;
    const stream = await api(`/v1/jobs/${created.id}/events`, key);
    const reader = stream.body!.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    const readUntil = async (needle: string) => {
      while (!seen.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += decoder.decode(value);
      }
    };
    await readUntil("job.queued");
    await gpuCallback(request, {
      type: "progress",
      attempt: 1,
      progress: { stage: "denoising", step: 1, total_steps: 2 },
      preview: "data:image/png;base64,QUJD",
    });
    await readUntil("job.progress");
    expect(seen).toContain("data:image/png;base64,QUJD"); // previews go to live clients only
    await completeJob(request);
    await readUntil("job.succeeded");
    expect((await reader.read()).done).toBe(true);
  });

  it("keeps a quiet stream open with comment frames while the job waits", async () => {
    const { runInDurableObject } = await import("cloudflare:test");
    const { key } = await createKey(freshOwner());
    const created = (await (await multipartJob(key, tinyJob())).json()) as { id: string };
    const stream = await api(`/v1/jobs/${created.id}/events`, key);
    const reader = stream.body!.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    while (!seen.includes("job.queued")) seen += decoder.decode((await reader.read()).value);
    // The interval's own tick, called directly rather than waiting 15 s.
    await runInDurableObject(env.JOBS.get(env.JOBS.idFromName(created.id)), (instance) =>
      (instance as unknown as { streams: { ping(): void } }).streams.ping(),
    );
    while (!seen.includes(": keep-alive")) seen += decoder.decode((await reader.read()).value);
    expect(seen.endsWith(": keep-alive\n\n")).toBe(true);
    await reader.cancel();
  });
});

describe("webhooks", () => {
  it("delivers signed Standard Webhooks that verify with the owner's secret", async () => {
    const { key } = await createKey(freshOwner());
    const job = await runToSuccess(key, tinyJob({ webhook: { url: HOOK } }));
    await runWebhookDeliveries(job.id);
    const hook = peer.webhooks.at(-1)!;
    const { secret } = (await (await api("/v1/webhook_secret", key)).json()) as { secret: string };
    expect(secret).toMatch(/^whsec_/);
    expect(await verifyWebhook(secret, hook.headers, hook.body)).toMatchObject({ type: "job.succeeded" });
    await expect(verifyWebhook(secret, hook.headers, hook.body.replace("succeeded", "failed"))).rejects.toThrow(WebhookVerificationError);
    const payload = JSON.parse(hook.body);
    expect(payload).toMatchObject({ type: "job.succeeded", data: { sequence: 5, job: { id: job.id, status: "succeeded" } } });
    expect(payload.data.job.output[0].url).toContain("/files/");
  });

  it("queues again a pending delivery whose queue message was lost (cron)", async () => {
    const { requeueStalledDeliveries, STALLED_AFTER_MS } = await import("../../edge/src/webhooks/requeue-stalled.js");
    const { key } = await createKey(freshOwner());
    const job = await runToSuccess(key, tinyJob({ webhook: { url: HOOK } }));
    // Nothing consumes the queue here: the delivery stays pending, as if its message were lost.
    const later = Date.now() + STALLED_AFTER_MS + 60_000;
    const stalled = await env.DB.prepare(`SELECT id FROM webhook_deliveries WHERE job_id = ? AND status = 'pending'`)
      .bind(job.id)
      .all<{ id: string }>();
    expect(stalled.results).toHaveLength(1);
    expect(await requeueStalledDeliveries(env as never, Date.now())).toBe(0); // not overdue yet
    expect(await requeueStalledDeliveries(env as never, later)).toBeGreaterThanOrEqual(1);
    const row = await env.DB.prepare(`SELECT next_attempt_at FROM webhook_deliveries WHERE id = ?`)
      .bind(stalled.results[0]!.id)
      .first<{ next_attempt_at: string }>();
    expect(Date.parse(row!.next_attempt_at)).toBe(later);
    // Its new message is at work: the next sweep at the same time leaves it alone.
    const again = await env.DB.prepare(`SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at < ?`)
      .bind(new Date(later - STALLED_AFTER_MS).toISOString())
      .first<{ n: number }>();
    expect(again!.n).toBe(0);
  });

  it("retries a failing receiver, logs every attempt, and can redeliver", async () => {
    const { key } = await createKey(freshOwner());
    const job = await runToSuccess(key, tinyJob({ webhook: { url: HOOK, events: ["job.succeeded", "job.progress"] } }));
    peer.script.hookStatus.push(500, 500, 500);
    const result = await runWebhookDeliveries(job.id);
    expect(result.retryMessages).toHaveLength(3); // two progress events and the success
    const log = (await (await api(`/v1/jobs/${job.id}/webhook_deliveries`, key)).json()) as {
      data: Array<{ id: string; status: string; attempts: number; last_status_code: number; type: string }>;
    };
    expect(log.data.map((d) => d.type)).toEqual(["job.progress", "job.progress", "job.succeeded"]);
    expect(log.data.every((d) => d.status === "pending" && d.attempts === 1 && d.last_status_code === 500)).toBe(true);
    // The queue retries; this time the receiver answers.
    await runWebhookDeliveries(job.id);
    const after = (await (await api(`/v1/jobs/${job.id}/webhook_deliveries`, key)).json()) as {
      data: Array<{ id: string; status: string; attempts: number }>;
    };
    expect(after.data.every((d) => d.status === "delivered" && d.attempts === 2)).toBe(true);
    // Same webhook-id on the retry of one event.
    const ids = peer.webhooks.map((w) => w.headers.get("webhook-id"));
    expect(new Set(ids).size).toBe(3);

    const redeliver = await api(`/v1/jobs/${job.id}/webhook_deliveries/${after.data[2]!.id}/redeliver`, key, { method: "POST" });
    expect(redeliver.status).toBe(202);
    await runWebhookDeliveries(job.id);
    expect(peer.webhooks.at(-1)!.headers.get("webhook-id")).not.toBe(after.data[2]!.id);
  });

  it("stops retrying on 410 Gone and after the schedule (over 24 h) runs out", async () => {
    expect(WEBHOOK_RETRY_DELAYS_SECONDS.reduce((a, b) => a + b, 0)).toBeGreaterThan(24 * 3600);
    expect(nextRetryDelaySeconds(1, () => 0)).toBe(5);
    expect(nextRetryDelaySeconds(7, () => 1)).toBe(39600);
    expect(nextRetryDelaySeconds(8)).toBeNull();
    const { key } = await createKey(freshOwner());
    const job = await runToSuccess(key, tinyJob({ webhook: { url: HOOK } }));
    peer.script.hookStatus.push(410);
    const result = await runWebhookDeliveries(job.id);
    expect(result.retryMessages).toHaveLength(0);
    const row = await env.DB.prepare(`SELECT status FROM webhook_deliveries WHERE job_id = ?`).bind(job.id).first<{ status: string }>();
    expect(row!.status).toBe("failed");
  });

  it("signs with both secrets for a day after rotation", async () => {
    const { key } = await createKey(freshOwner());
    const { secret: old } = (await (await api("/v1/webhook_secret", key)).json()) as { secret: string };
    const rotated = (await (await api("/v1/webhook_secret/rotate", key, { method: "POST" })).json()) as {
      secret: string;
      previous_valid_until: string;
    };
    expect(rotated.secret).not.toBe(old);
    expect(Date.parse(rotated.previous_valid_until)).toBeGreaterThan(Date.now() + 23 * 3600 * 1000);
    const job = await runToSuccess(key, tinyJob({ webhook: { url: HOOK } }));
    await runWebhookDeliveries(job.id);
    const hook = peer.webhooks.at(-1)!;
    expect(hook.headers.get("webhook-signature")!.split(" ")).toHaveLength(2);
    for (const secret of [old, rotated.secret])
      expect(await verifyWebhook(secret, hook.headers, hook.body)).toMatchObject({ type: "job.succeeded" });
  });

  it("keeps every retired secret signing for its own 24 h: a second rotation within the day signs with all three", async () => {
    const { key } = await createKey(freshOwner());
    const { secret: first } = (await (await api("/v1/webhook_secret", key)).json()) as { secret: string };
    const second = (await (await api("/v1/webhook_secret/rotate", key, { method: "POST" })).json()) as {
      secret: string;
      previous_valid_until: string;
    };
    const third = (await (await api("/v1/webhook_secret/rotate", key, { method: "POST" })).json()) as {
      secret: string;
      previous_valid_until: string;
    };
    expect(Date.parse(third.previous_valid_until)).toBeGreaterThanOrEqual(Date.parse(second.previous_valid_until));
    const job = await runToSuccess(key, tinyJob({ webhook: { url: HOOK } }));
    await runWebhookDeliveries(job.id);
    const hook = peer.webhooks.at(-1)!;
    expect(hook.headers.get("webhook-signature")!.split(" ")).toHaveLength(3);
    for (const secret of [first, second.secret, third.secret])
      expect(await verifyWebhook(secret, hook.headers, hook.body)).toMatchObject({ type: "job.succeeded" });
  });

  it("refuses a rotation while five retired secrets still sign, with Retry-After until the oldest stops", async () => {
    const { key } = await createKey(freshOwner());
    for (let i = 0; i < 5; i++) expect((await api("/v1/webhook_secret/rotate", key, { method: "POST" })).status).toBe(200);
    const refused = await api("/v1/webhook_secret/rotate", key, { method: "POST" });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { code: string }).code).toBe("rate_limited");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(23 * 3600);
  });
});
