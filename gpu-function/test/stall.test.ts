import { afterAll, describe, expect, it } from "vitest";
import { EdgePeer } from "./support/edge-peer.js";
import { alive, GpuService } from "./support/gpu-service.js";
import { parseExposition, valueOf } from "./support/prometheus.js";

/**
 * A hung inference (here: the inference process frozen with SIGSTOP) must not
 * hold a job for ever while heartbeats keep the edge's lease alive: after STALL_SECONDS
 * of silence the process is killed, the job fails as retryable worker_crashed, and a
 * fresh process serves the next job.
 */
let peer: EdgePeer | null = null;
let service: GpuService | null = null;

afterAll(() => {
  service?.kill();
  peer?.close();
});

describe("GPU function stall watchdog", () => {
  it("kills an inference process that stops making progress, fails its job as retryable, and recovers", async () => {
    peer = await new EdgePeer().start();
    service = await new GpuService({ STALL_SECONDS: "4" }).ready();
    // Frozen before the job reaches it, so the test does not race a job that the tiny bundle finishes in a blink.
    const [frozen] = service.children();
    process.kill(frozen!, "SIGSTOP");
    expect((await service.dispatch(peer.job("job_hung"))).status).toBe(202);

    const outcome = await peer.outcome("job_hung");
    expect(outcome.body).toMatchObject({ type: "failed", error: { code: "worker_crashed", retryable: true } });
    if (outcome.body.type === "failed") expect(outcome.body.error.message).toMatch(/no progress/);
    // Heartbeats stop with the job.
    const callbacks = peer.of("job_hung").length;
    await new Promise((r) => setTimeout(r, 2500));
    expect(peer.of("job_hung").length).toBe(callbacks);
    expect(alive(frozen!)).toBe(false);

    await service.ready();
    expect((await service.dispatch(peer.job("job_after"))).status).toBe(202);
    expect((await peer.outcome("job_after")).body.type).toBe("succeeded");
    const metrics = parseExposition(await (await fetch(`${service.url}/metrics`)).text());
    expect(valueOf(metrics, "gpu_worker_stalls_total")).toBe(1);
    expect(valueOf(metrics, "gpu_worker_restarts_total")).toBe(1);
    expect(service.logs.find((l) => l.msg === "inference process stalled; killing it")).toMatchObject({ job_ids: ["job_hung"] });
  });
});
