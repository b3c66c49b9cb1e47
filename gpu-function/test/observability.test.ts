import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METRICS } from "../src/server/metrics.js";
import { EdgePeer } from "./support/edge-peer.js";
import { GpuService } from "./support/gpu-service.js";
import { familyOf, parseExposition, valueOf, type Exposition } from "./support/prometheus.js";

/**
 * What operators see of the real GPU-function process: JSON log lines that carry the
 * job id and the edge's request id, the request id echoed on every callback, and the
 * Prometheus exposition at /metrics after a few jobs.
 */
let peer: EdgePeer;
let service: GpuService;

beforeAll(async () => {
  peer = await new EdgePeer().start();
  service = await new GpuService().ready();
});

afterAll(() => {
  service?.kill();
  peer?.close();
});

const metrics = async (): Promise<Exposition> => parseExposition(await (await fetch(`${service.url}/metrics`)).text());

describe("GPU function observability", () => {
  it("shows one busy slot while a job runs, and counts a dispatch refused as busy", async () => {
    peer.hold("job_obs");
    const accepted = await service.dispatch(peer.job("job_obs"), { "x-request-id": "req_obs_1" });
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get("x-request-id")).toBe("req_obs_1");
    await peer.waitFor("job_obs", (c) => c.body.type === "started");

    const during = await metrics();
    expect(valueOf(during, "gpu_jobs_in_flight")).toBe(1);
    expect(valueOf(during, "gpu_jobs_capacity")).toBe(1);
    expect(valueOf(during, "gpu_busy_ratio")).toBe(1);
    const busy = await service.dispatch(peer.job("job_refused"), { "x-request-id": "req_obs_busy" });
    expect(busy.status).toBe(429);
    expect(valueOf(await metrics(), "gpu_dispatch_refused_total", { reason: "busy" })).toBe(1);

    peer.release("job_obs");
    expect((await peer.outcome("job_obs")).body.type).toBe("succeeded");
  });

  it("sends the dispatch's x-request-id back on every callback of the job", async () => {
    const callbacks = peer.of("job_obs");
    expect(callbacks.map((c) => c.body.type)).toContain("progress");
    expect(new Set(callbacks.map((c) => c.headers["x-request-id"]))).toEqual(new Set(["req_obs_1"]));
  });

  it("makes up a request id when the dispatch has none (or an unusable one) and uses it the same way", async () => {
    const res = await service.dispatch(peer.job("job_noid"), { "x-request-id": 'bad id "with quotes"' });
    expect(res.status).toBe(202);
    const made = res.headers.get("x-request-id")!;
    expect(made).toMatch(/^req_gpu_[0-9a-f]{24}$/);
    expect((await peer.outcome("job_noid")).body.type).toBe("succeeded");
    expect(new Set(peer.of("job_noid").map((c) => c.headers["x-request-id"]))).toEqual(new Set([made]));
    expect(service.logs.some((l) => l.job_id === "job_noid" && l.request_id === made)).toBe(true);
  });

  it("logs JSON in which every line about a job carries its job_id and request_id, from both processes", async () => {
    expect(service.logs.filter((l) => l.level === "raw")).toEqual([]);
    const aboutJob = service.logs.filter((l) => JSON.stringify(l).includes("job_obs"));
    expect(aboutJob.length).toBeGreaterThan(3);
    for (const line of aboutJob) expect(line, line.msg).toMatchObject({ job_id: "job_obs", request_id: "req_obs_1", attempt: 1 });
    const messages = aboutJob.map((l) => l.msg);
    expect(messages).toEqual(expect.arrayContaining(["job accepted", "inference started", "inference finished", "job succeeded"]));
    expect(aboutJob.some((l) => l.process === "inference")).toBe(true);
    const refused = service.logs.find((l) => l.job_id === "job_refused");
    expect(refused).toMatchObject({ msg: "dispatch refused", reason: "busy", request_id: "req_obs_busy" });
  });

  it("exposes every metric family with HELP and TYPE, and counts after the jobs", async () => {
    expect((await service.dispatch(peer.job("job_noface", {}, "coffee"))).status).toBe(202);
    expect((await peer.outcome("job_noface")).body).toMatchObject({ type: "failed", error: { code: "face_not_detected" } });
    const res = await fetch(`${service.url}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const e = parseExposition(await res.text());

    for (const [name, family] of Object.entries(METRICS)) {
      if (![...e.samples].some((s) => familyOf(s.name, e.types) === name)) continue; // labelled families appear once used
      expect(e.types.get(name), name).toBe(family.kind);
      expect(e.help.get(name), name).toBeTruthy();
    }
    for (const s of e.samples) expect(familyOf(s.name, e.types), s.name).toBeDefined();

    expect(valueOf(e, "gpu_jobs_accepted_total")).toBe(3);
    expect(valueOf(e, "gpu_jobs_total", { outcome: "succeeded" })).toBe(2);
    expect(valueOf(e, "gpu_jobs_total", { outcome: "failed" })).toBe(1);
    expect(valueOf(e, "gpu_job_errors_total", { code: "face_not_detected" })).toBe(1);
    expect(valueOf(e, "gpu_job_queue_wait_seconds_count")).toBe(3);
    expect(valueOf(e, "gpu_job_seconds_count", { outcome: "succeeded" })).toBe(2);
    expect(valueOf(e, "gpu_stage_seconds_count", { stage: "download" })).toBe(3);
    expect(valueOf(e, "gpu_stage_seconds_count", { stage: "denoise" })).toBe(2);
    expect(valueOf(e, "gpu_dispatch_refused_total", { reason: "busy" })).toBe(1);
    expect(valueOf(e, "gpu_model_load_seconds")).toBeGreaterThan(0);
    expect(valueOf(e, "gpu_model_ready")).toBe(1);
    expect(valueOf(e, "gpu_model_load_failed")).toBe(0);
    expect(valueOf(e, "gpu_jobs_in_flight")).toBe(0);
    expect(valueOf(e, "gpu_busy_ratio")).toBe(0);
    expect(valueOf(e, "gpu_draining")).toBe(0);
    expect(valueOf(e, "gpu_worker_restarts_total")).toBe(0);

    // Histogram buckets are cumulative and end in +Inf = _count.
    const buckets = e.samples.filter((s) => s.name === "gpu_job_queue_wait_seconds_bucket");
    expect(buckets.map((b) => b.value)).toEqual([...buckets.map((b) => b.value)].sort((a, b) => a - b));
    expect(buckets.at(-1)).toMatchObject({ labels: { le: "+Inf" }, value: 3 });
  });
});
