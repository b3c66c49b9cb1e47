import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyWebhook, WebhookVerificationError } from "@ecomid/shared/sdk";
import { api, createJob, getJob, gpuMetrics, image, tinyJob, type Json } from "./support/api.js";
import { followEvents } from "./support/sse.js";
import { WebhookReceiver } from "./support/webhook-receiver.js";

/** The path a customer takes: submit, watch, get the webhook, download; then the same request again hits the cache. */
describe("a portrait from astronaut.png, end to end", () => {
  const receiver = new WebhookReceiver();
  let request: Json;
  let first: Json | undefined;

  beforeAll(async () => {
    const hookUrl = await receiver.start();
    request = tinyJob({ prompt: "a studio portrait, soft light", seed: 1 }, { webhook: { url: hookUrl }, metadata: { suite: "e2e" } });
  });
  afterAll(() => receiver.stop());

  it("streams progress, sends a signed webhook and serves a decodable 64x64 WebP", async () => {
    const face = image("astronaut.png");
    const created = await createJob(request, face);
    expect(created.status).toBe("queued");
    expect(created.cached).toBe(false);

    const events = await followEvents(created.id, 90_000);
    const types = events.map((e) => e.event);
    expect(types[0]).toBe("job.queued");
    expect(types).toContain("job.started");
    expect(types.filter((t) => t === "job.progress").length).toBeGreaterThan(0);
    expect(types.at(-1)).toBe("job.succeeded");
    // Event ids are the job's sequence numbers: gapless and increasing, so Last-Event-ID resumes exactly.
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    // Per-step progress from the sampler, relayed GPU -> edge callback -> this stream.
    const steps = events.filter((e) => e.event === "job.progress").map((e) => (e.data.data as Json).progress);
    expect(
      steps.some((p) => p?.step > 0 && p.total_steps > 0),
      `progress seen: ${JSON.stringify(steps)}`,
    ).toBe(true);

    const job = await getJob(created.id);
    first = job;
    expect(job.status).toBe("succeeded");
    expect(job.cached).toBe(false);
    expect(job.metadata).toEqual({ suite: "e2e" });
    expect(job.faces).toHaveLength(1);
    expect(job.faces[0].keypoints).toHaveLength(5);
    expect(job.chosen_face).toBe(0);
    expect(job.output).toHaveLength(1);
    const out = job.output[0];
    expect(out.identity_similarity === null || typeof out.identity_similarity === "number").toBe(true);
    expect(out).toMatchObject({ index: 0, content_type: "image/webp", width: 64, height: 64, seed: 1 });

    // The webhook: Standard Webhooks headers, signed with the owner's secret, carrying the finished job.
    const hook = await receiver.next((w) => JSON.parse(w.body).data?.job?.id === created.id, 30_000);
    const secret = ((await (await api("/v1/webhook_secret")).json()) as Json).secret as string;
    expect(secret).toMatch(/^whsec_/);
    expect(await verifyWebhook(secret, hook.headers, hook.body)).toMatchObject({ type: "job.succeeded" });
    await expect(verifyWebhook(secret, hook.headers, hook.body.replace("succeeded", "failed"))).rejects.toThrow(WebhookVerificationError);
    const payload = JSON.parse(hook.body) as Json;
    expect(payload.type).toBe("job.succeeded");
    expect(payload.data.job.status).toBe("succeeded");

    // Outputs: a 302 to a freshly signed URL, which serves the bytes the job reports.
    const redirect = await api(`/v1/jobs/${created.id}/outputs/0`);
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get("location")!;
    expect(location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    const download = await fetch(location); // no Authorization: the signature is the credential
    expect(download.status).toBe(200);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.byteLength).toBe(out.bytes);
    const meta = await sharp(bytes).metadata();
    expect(meta).toMatchObject({ format: "webp", width: 64, height: 64 });
    const tampered = new URL(location);
    const sig = tampered.searchParams.get("sig") ?? "";
    tampered.searchParams.set("sig", sig.slice(0, -1) + (sig.endsWith("0") ? "1" : "0"));
    expect((await fetch(tampered)).status).toBeGreaterThanOrEqual(400);
  });

  it("answers the same submission from the cache at once, without GPU work", async () => {
    expect(first, "needs the first job to have succeeded").toBeDefined();
    const before = await gpuMetrics();
    const started = Date.now();
    const again = await createJob(request, image("astronaut.png"));
    expect(again.id).not.toBe(first!.id);
    expect(again.status).toBe("succeeded");
    expect(again.cached).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(again.output).toHaveLength(1);
    expect(again.output[0].sha256).toBe(first!.output[0].sha256);
    const download = await fetch((await api(`/v1/jobs/${again.id}/outputs/0`)).headers.get("location")!);
    expect(download.status).toBe(200);
    // Give a dispatch that should not happen time to happen, then check the GPU saw nothing.
    await new Promise((r) => setTimeout(r, 2000));
    const after = await gpuMetrics();
    expect(after.gpu_jobs_accepted_total ?? 0).toBe(before.gpu_jobs_accepted_total ?? 0);
    expect((await getJob(again.id)).status).toBe("succeeded");
  });
});
