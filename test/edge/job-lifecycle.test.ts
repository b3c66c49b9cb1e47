import { SELF } from "cloudflare:test";
import { describe, expect, it, afterEach } from "vitest";
import {
  api,
  completeJob,
  createKey,
  gpuCallback,
  installPeer,
  multipartJob,
  runDispatch,
  runWebhookDeliveries,
  tinyJob,
  HOOK,
} from "./helpers.js";

let peer: ReturnType<typeof installPeer>;
afterEach(() => peer?.restore());

describe("a job from submission to outputs", () => {
  it("is queued, dispatched to the GPU pool with signed URLs, runs, succeeds and serves its outputs", async () => {
    peer = installPeer();
    const { key } = await createKey("acme");
    const res = await multipartJob(key, tinyJob({ webhook: { url: HOOK } }));
    expect(res.status).toBe(201);
    const job = (await res.json()) as { id: string; status: string; seed: number };
    expect(job.status).toBe("queued");
    expect(res.headers.get("location")).toBe(`/v1/jobs/${job.id}`);

    await runDispatch(job.id);
    const request = peer.dispatched.find((d) => d.job_id === job.id)!;
    expect(request.protocol).toBe("ecomid.gpu/1");
    expect(request.spec.seed).toBe(7);
    expect(request.outputs).toHaveLength(1);
    const input = await SELF.fetch(request.spec.reference_images[0]!.url);
    expect(input.status).toBe(200);
    expect(input.headers.get("content-type")).toBe("image/png");

    expect((await gpuCallback(request, { type: "started", attempt: 1 })).status).toBe(200);
    const progress = await gpuCallback(request, {
      type: "progress",
      attempt: 1,
      progress: { stage: "denoising", step: 1, total_steps: 4 },
    });
    expect(await progress.json()).toEqual({ ok: true, cancel: false });
    const running = (await (await api(`/v1/jobs/${job.id}`, key)).json()) as { status: string; progress: { step: number } };
    expect(running.status).toBe("running");
    expect(running.progress.step).toBe(1);

    expect((await completeJob(request)).status).toBe(200);
    const done = (await (await api(`/v1/jobs/${job.id}`, key)).json()) as {
      status: string;
      output: Array<{ url: string; url_expires_at: string }>;
      metrics: { queue_ms: number; run_ms: number; total_ms: number };
      faces: unknown[];
    };
    expect(done.status).toBe("succeeded");
    expect(done.output).toHaveLength(1);
    expect(done.metrics.run_ms).toBe(1234);
    expect(done.metrics.total_ms).toBeGreaterThanOrEqual(0);
    expect(done.faces).toHaveLength(1);

    const redirect = await api(`/v1/jobs/${job.id}/outputs/0`, key, { redirect: "manual" });
    expect(redirect.status).toBe(302);
    const download = await api(
      new URL(redirect.headers.get("location")!).pathname + new URL(redirect.headers.get("location")!).search,
      null,
    );
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("image/webp");

    await runWebhookDeliveries(job.id);
    const hook = peer.webhooks.find((w) => JSON.parse(w.body).type === "job.succeeded")!;
    expect(JSON.parse(hook.body).data.job.id).toBe(job.id);
  });
});
