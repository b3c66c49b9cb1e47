import { afterEach, describe, expect, it } from "vitest";
import { EdgePeer } from "./support/edge-peer.js";
import { alive, GpuService } from "./support/gpu-service.js";

/**
 * Graceful shutdown of the real GPU-function process: on SIGTERM it stops taking jobs
 * (503 "draining" on /health and on dispatch) and the job in flight either finishes
 * within DRAIN_SECONDS or is stopped and handed back to the edge as a retryable
 * worker_shutdown failure; either way the process exits 0.
 */
let peer: EdgePeer | null = null;
let service: GpuService | null = null;

afterEach(() => {
  service?.kill();
  peer?.close();
  service = peer = null;
});

async function untilDraining(s: GpuService): Promise<Response> {
  for (let i = 0; i < 400; i++) {
    const res = await fetch(`${s.url}/health`);
    if (((await res.clone().json()) as { status: string }).status === "draining") return res;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("never reported draining");
}

describe("GPU function shutdown", () => {
  it("finishes the job in flight within the drain time, refusing new work meanwhile, then exits 0", async () => {
    peer = await new EdgePeer().start();
    service = await new GpuService({ DRAIN_SECONDS: "120" }).ready();
    // The job's upload is held, so it is still in flight when the signal comes.
    peer.hold("job_drain_ok");
    expect((await service.dispatch(peer.job("job_drain_ok"))).status).toBe(202);
    await peer.waitFor("job_drain_ok", (c) => c.body.type === "started");

    service.signal("SIGTERM");
    const health = await untilDraining(service);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: "draining", in_flight: 1 });
    const refused = await service.dispatch(peer.job("job_after_term"), { "x-request-id": "req_refused" });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ status: 503, code: "draining" });
    expect(refused.headers.get("x-request-id")).toBe("req_refused");

    peer.release("job_drain_ok");
    const done = await peer.outcome("job_drain_ok");
    expect(done.body.type).toBe("succeeded");
    expect(peer.uploads.has("job_drain_ok/0")).toBe(true);
    expect(await service.exited).toEqual({ code: 0, signal: null });
    expect(peer.of("job_drain_ok").filter((c) => c.body.type === "failed")).toHaveLength(0);
    expect(peer.of("job_after_term")).toHaveLength(0);
    expect(service.logs.find((l) => l.msg === "drained")).toMatchObject({ finished: 1, handed_back: 0 });
  });

  it("stops a job that outlasts the drain time and hands it back as retryable worker_shutdown, then exits 0", async () => {
    peer = await new EdgePeer().start();
    service = await new GpuService({ DRAIN_SECONDS: "1" }).ready();
    // The inference process is frozen (SIGSTOP) before the job reaches it, so the job is
    // certainly still in inference when the drain time runs out (the tiny bundle is quick).
    const inference = service.children();
    expect(inference).toHaveLength(1);
    process.kill(inference[0]!, "SIGSTOP");
    expect((await service.dispatch(peer.job("job_handback"))).status).toBe(202);
    await peer.waitFor("job_handback", (c) => c.body.type === "started");
    for (
      let i = 0;
      i < 400 && !service.logs.some((l) => l.job_id === "job_handback" && l.msg === "inputs downloaded; job sent to inference");
      i++
    ) {
      await new Promise((r) => setTimeout(r, 25));
    }

    service.signal("SIGTERM");
    expect((await untilDraining(service)).status).toBe(503);
    const handedBack = await peer.outcome("job_handback");
    expect(handedBack.body).toMatchObject({ type: "failed", attempt: 1, error: { code: "worker_shutdown", retryable: true } });
    expect(await service.exited).toEqual({ code: 0, signal: null });
    // The inference was stopped, not left running, and no success followed the hand-back.
    expect(inference.filter(alive)).toEqual([]);
    expect(peer.of("job_handback").some((c) => c.body.type === "succeeded")).toBe(false);
    expect(service.logs.find((l) => l.msg === "drained")).toMatchObject({ finished: 0, handed_back: 1 });
  });

  it("a second signal (Ctrl-C after SIGTERM) does not cut the drain short", async () => {
    peer = await new EdgePeer().start();
    service = await new GpuService({ DRAIN_SECONDS: "120" }).ready();
    peer.hold("job_twice");
    expect((await service.dispatch(peer.job("job_twice"))).status).toBe(202);
    await peer.waitFor("job_twice", (c) => c.body.type === "started");
    service.signal("SIGTERM");
    await untilDraining(service);
    service.signal("SIGINT");
    for (let i = 0; i < 400 && !service.logs.some((l) => l.msg.startsWith("already stopping")); i++)
      await new Promise((r) => setTimeout(r, 25));
    // Still draining, still up: the job is allowed to finish.
    expect(((await (await fetch(`${service.url}/health`)).json()) as { status: string }).status).toBe("draining");
    peer.release("job_twice");
    expect((await peer.outcome("job_twice")).body.type).toBe("succeeded");
    expect((await service.exited).code).toBe(0);
  });
});
