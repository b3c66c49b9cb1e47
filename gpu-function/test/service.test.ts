import { createHash } from "node:crypto";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GpuRefusal, type GpuCallback, type GpuJobRequest } from "@ecomid/shared/protocol";
import { EdgePeer } from "./support/edge-peer.js";
import { GpuService, SERVICE_TOKEN } from "./support/gpu-service.js";

/**
 * The real GPU-function process on the tiny bundle, driven by a scripted edge peer
 * that serves inputs, takes uploads and receives signed callbacks.
 */
let peer: EdgePeer;
let service: GpuService;

beforeAll(async () => {
  peer = await new EdgePeer().start();
  service = await new GpuService().ready();
}, 150_000);

afterAll(() => {
  service?.kill();
  peer?.close();
});

/** The peer's job, asking for the keypoint image and previews too. */
function job(id: string, overrides: Partial<GpuJobRequest["spec"]> = {}, image: "astronaut" | "coffee" = "astronaut"): GpuJobRequest {
  return {
    ...peer.job(id, overrides, image),
    intermediates: [{ kind: "keypoint_image", put_url: `${peer.base}/out/${id}/kp`, content_type: "image/png", max_bytes: 1e7 }],
    progress_previews: true,
  };
}

const callbacksOf = (id: string): GpuCallback[] => peer.of(id).map((c) => c.body);
const outcome = async (id: string) => (await peer.outcome(id, 60_000)).body;
const inFlight = async () => ((await (await fetch(`${service.url}/health`)).json()) as { in_flight: number }).in_flight;

describe("GPU function service", () => {
  it("reports health with the execution provider, and refuses bad dispatches", async () => {
    const health = (await (await fetch(`${service.url}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: "ok", model_ready: true, execution_provider: "cpu", in_flight: 0, capacity: 1 });
    const wrongToken = await fetch(`${service.url}/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer wrong-token-0123456789" },
      body: JSON.stringify(job("job_a")),
    });
    expect(wrongToken.status).toBe(401);
    expect(GpuRefusal.parse(await wrongToken.json())).toMatchObject({ status: 401, code: "unauthorized" });
    const bad = await service.dispatch({ protocol: "ecomid.gpu/1", job_id: "x" });
    expect(bad.status).toBe(400);
    expect(GpuRefusal.parse(await bad.json())).toMatchObject({ status: 400, code: "invalid_request" });
    expect(health.bundle).toBe("ecomid-tiny@0.1.0");
    const otherBundle = await service.dispatch({ ...job("job_other_bundle"), bundle_version: "ecomid-tiny@9.9.9" });
    expect(otherBundle.status).toBe(409);
    expect(GpuRefusal.parse(await otherBundle.json())).toMatchObject({ status: 409, code: "bundle_mismatch" });
  });

  it("runs a job: signed progress callbacks, outputs through the PUT URLs, a succeeded report that matches them", async () => {
    expect((await service.dispatch(job("job_ok"))).status).toBe(202);
    const done = await outcome("job_ok");
    expect(done.type).toBe("succeeded");
    if (done.type !== "succeeded") return;
    const progress = callbacksOf("job_ok").filter((c) => c.type === "progress");
    const steps = progress.flatMap((c) => (c.type === "progress" && c.progress.stage === "denoising" ? [c.progress.step] : []));
    expect(steps).toEqual([1, 2, 3]);
    expect(progress.some((c) => c.type === "progress" && c.preview?.startsWith("data:image/webp;base64,"))).toBe(true);
    const uploaded = peer.uploads.get("job_ok/0")!;
    const meta = await sharp(uploaded).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["webp", 64, 64]);
    expect(done.outputs[0]).toMatchObject({
      index: 0,
      bytes: uploaded.byteLength,
      sha256: createHash("sha256").update(uploaded).digest("hex"),
      seed: 5,
    });
    expect(done.faces).toHaveLength(1);
    expect(done.intermediates).toEqual([{ kind: "keypoint_image", content_type: "image/png" }]);
    expect((await sharp(peer.uploads.get("job_ok/kp")!).metadata()).width).toBe(512);
    expect(done.timings.stages_ms).toHaveProperty("denoise");
    expect(peer.badSignatures).toBe(0);
  });

  it("answers 429 while full, and a canceled job stops without a result", async () => {
    expect((await service.dispatch(job("job_long", { steps: 40 }))).status).toBe(202);
    const busy = await service.dispatch(job("job_other"));
    expect(busy.status).toBe(429);
    expect(busy.headers.get("retry-after")).toBe("2");
    // Let it start denoising, then cancel through the edge's route.
    const until = Date.now() + 30_000;
    while (!callbacksOf("job_long").some((c) => c.type === "progress" && c.progress.stage === "denoising")) {
      if (Date.now() > until) throw new Error("never started denoising");
      await new Promise((r) => setTimeout(r, 50));
    }
    const cancel = await fetch(`${service.url}/v1/jobs/job_long/cancel`, {
      method: "POST",
      headers: { authorization: `Bearer ${SERVICE_TOKEN}` },
    });
    expect(cancel.status).toBe(202);
    for (let i = 0; i < 100 && (await inFlight()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    const steps = callbacksOf("job_long").filter((c) => c.type === "progress" && c.progress.stage === "denoising").length;
    expect(steps).toBeLessThan(40);
    expect(callbacksOf("job_long").some((c) => c.type === "succeeded")).toBe(false);
    expect(peer.uploads.has("job_long/0")).toBe(false);
  });

  it("stops when the edge's callback answer says the job was canceled", async () => {
    peer.cancelJobs.add("job_edge_cancel");
    expect((await service.dispatch(job("job_edge_cancel", { steps: 40 }))).status).toBe(202);
    for (let i = 0; i < 200 && (await inFlight()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(callbacksOf("job_edge_cancel").some((c) => c.type === "succeeded")).toBe(false);
  });

  it("stops a job whose callback the edge refuses (403, 404, 409), whatever the refusal's body says", async () => {
    // 404 at once (a job deleted before it started), 403 after two (a bad signature, e.g. a rotated
    // signing secret), 409 mid-denoise (a superseded attempt): none may upload or report success.
    const cases = [
      { id: "job_refused_404", status: 404, after: 0 },
      { id: "job_refused_403", status: 403, after: 2 },
      { id: "job_refused_409", status: 409, after: 4 },
    ];
    for (const c of cases) {
      peer.refusals.set(c.id, { status: c.status, after: c.after });
      expect((await service.dispatch(job(c.id, { steps: 40 }))).status).toBe(202);
      for (let i = 0; i < 600 && (await inFlight()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await inFlight()).toBe(0);
      expect(peer.refused.filter((r) => r.jobId === c.id).length).toBeGreaterThan(0);
      expect(peer.uploads.has(`${c.id}/0`)).toBe(false);
      expect(peer.refused.some((r) => r.jobId === c.id && r.type === "succeeded")).toBe(false);
    }
  });

  it("fails a job without a face with face_not_detected and a hint", async () => {
    expect((await service.dispatch(job("job_noface", {}, "coffee"))).status).toBe(202);
    const done = await outcome("job_noface");
    expect(done).toMatchObject({ type: "failed", error: { code: "face_not_detected", retryable: false } });
    if (done.type === "failed") expect(done.error.hint).toMatch(/pad the image/);
  });

  it("without a C2PA certificate, fails a c2pa+iptc job with provenance_unavailable and uploads nothing", async () => {
    expect((await service.dispatch(job("job_unsigned", { provenance: { embed: "c2pa+iptc", include_prompt: false } }))).status).toBe(202);
    const done = await outcome("job_unsigned");
    expect(done).toMatchObject({ type: "failed", error: { code: "provenance_unavailable", retryable: false } });
    expect(peer.uploads.has("job_unsigned/0")).toBe(false);
  });

  it("reports what the succeeded job's outputs were labelled with", async () => {
    expect((await service.dispatch(job("job_iptc", { provenance: { embed: "iptc", include_prompt: false } }))).status).toBe(202);
    expect(await outcome("job_iptc")).toMatchObject({
      type: "succeeded",
      provenance: { embedded: "iptc", c2pa: null, prompt_included: false },
    });
  });

  it("exposes Prometheus metrics", async () => {
    const text = await (await fetch(`${service.url}/metrics`)).text();
    expect(text).toMatch(/gpu_jobs_total\{outcome="succeeded"\} [1-9]/);
    expect(text).toMatch(/gpu_job_errors_total\{code="face_not_detected"\} 1/);
    expect(text).toMatch(/gpu_model_load_seconds \d/);
    expect(text).toMatch(/gpu_stage_seconds_bucket\{stage="denoise",le="\+Inf"\} \d/);
  });
});
