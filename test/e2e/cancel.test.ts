import { describe, expect, it } from "vitest";
import { api, createJob, getJob, gpuHealth, gpuMetrics, image, tinyJob, type Json } from "./support/api.js";
import { waitUntil } from "./support/net.js";
import { followEvents } from "./support/sse.js";

describe("canceling a running job", () => {
  it("reaches the GPU function, which stops without producing an output", async () => {
    const before = await gpuMetrics();
    // 40 steps: long enough that the cancel lands mid-denoising; its own seed, so the cache cannot answer it.
    const created = await createJob(tinyJob({ prompt: "a portrait to cancel", seed: 4040, steps: 40 }), image("astronaut.png"));
    let cancelResponse: Promise<Response> | undefined;
    const events = await followEvents(created.id, 90_000, (e) => {
      const progress = (e.data.data as Json).progress;
      if (!cancelResponse && e.event === "job.progress" && progress?.step >= 2) {
        cancelResponse = api(`/v1/jobs/${created.id}/cancel`, { method: "POST" });
      }
    });
    expect(cancelResponse, `never saw denoising progress: ${events.map((e) => e.event).join(", ")}`).toBeDefined();
    const answer = await cancelResponse!;
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as Json).status).toBe("canceled");
    expect(events.at(-1)?.event).toBe("job.canceled");
    const lastStep = Math.max(...events.map((e) => ((e.data.data as Json).progress?.step as number | undefined) ?? 0));
    expect(lastStep).toBeLessThan(40);

    // The GPU function stops: it lets go of the job within a step or two of the cancel. The
    // ~37 steps left take ~4.5 s here (~120 ms each), so finishing them instead would miss 2 s.
    const canceledAt = Date.now();
    await waitUntil(
      "the GPU function to drop the canceled job",
      2000,
      async () => ((await gpuHealth()).in_flight === 0 ? true : undefined),
      50,
    );
    expect(Date.now() - canceledAt).toBeLessThan(2000);
    const after = await gpuMetrics();
    const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
    expect(delta("gpu_jobs_accepted_total")).toBe(1);
    expect(delta('gpu_jobs_total{outcome="canceled"}')).toBe(1);
    expect(delta('gpu_jobs_total{outcome="succeeded"}')).toBe(0);

    const job = await getJob(created.id);
    expect(job.status).toBe("canceled");
    expect(job.output).toEqual([]);
    expect((await api(`/v1/jobs/${created.id}/outputs/0`)).status).toBe(404);
    // Canceling twice is refused with the documented code.
    const again = await api(`/v1/jobs/${created.id}/cancel`, { method: "POST" });
    expect(((await again.json()) as Json).code).toBe("job_not_cancelable");
  });
});
