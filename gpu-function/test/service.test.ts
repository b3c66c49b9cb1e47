import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GpuCallback, GpuJobRequest } from "../../shared/src/protocol/gpu-protocol.js";
import { verifyCallback } from "../../shared/src/protocol/signature.js";

/**
 * The real GPU-function process on the tiny bundle, driven by a scripted edge peer
 * that serves inputs, takes uploads and receives signed callbacks.
 */
const TOKEN = "service-test-dispatch-token";
const SECRET = "s".repeat(43);
const astronaut = readFileSync("test/fixtures/images/astronaut.png");
const coffee = readFileSync("test/fixtures/images/coffee.png");

interface Peer {
  base: string;
  callbacks: Map<string, GpuCallback[]>;
  uploads: Map<string, Buffer>;
  badSignatures: number;
  cancelJobs: Set<string>;
}

const body = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
  });

let peer: Peer;
let peerServer: Server;
let service: ChildProcess;
let serviceUrl: string;

beforeAll(async () => {
  peer = { base: "", callbacks: new Map(), uploads: new Map(), badSignatures: 0, cancelJobs: new Set() };
  peerServer = createServer(async (req, res) => {
    const url = new URL(req.url!, "http://x");
    if (req.method === "GET" && url.pathname === "/in/astronaut") return void res.writeHead(200, { "content-type": "image/png" }).end(astronaut);
    if (req.method === "GET" && url.pathname === "/in/coffee") return void res.writeHead(200, { "content-type": "image/png" }).end(coffee);
    if (req.method === "PUT" && url.pathname.startsWith("/out/")) {
      peer.uploads.set(url.pathname.slice(5), await body(req));
      return void res.writeHead(201).end();
    }
    if (req.method === "POST" && url.pathname.startsWith("/cb/")) {
      const jobId = url.pathname.slice(4);
      const raw = (await body(req)).toString();
      const ok = await verifyCallback(SECRET, jobId, Number(req.headers["ecomid-attempt"]), raw, req.headers["ecomid-signature"] as string);
      if (ok !== "ok") {
        peer.badSignatures++;
        return void res.writeHead(403).end();
      }
      const list = peer.callbacks.get(jobId) ?? [];
      list.push(JSON.parse(raw) as GpuCallback);
      peer.callbacks.set(jobId, list);
      return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, cancel: peer.cancelJobs.has(jobId) }));
    }
    res.writeHead(404).end();
  }).listen(0, "127.0.0.1");
  await new Promise((r) => peerServer.once("listening", r));
  peer.base = `http://127.0.0.1:${(peerServer.address() as AddressInfo).port}`;

  const port = 20000 + Math.floor(Math.random() * 20000);
  serviceUrl = `http://127.0.0.1:${port}`;
  service = spawn("node", ["--import", "tsx", "gpu-function/src/server/main.ts"], {
    env: { ...process.env, PORT: String(port), BUNDLE_DIR: "bundles/tiny", EXECUTION_PROVIDER: "cpu", GPU_DISPATCH_TOKEN: TOKEN, HEARTBEAT_SECONDS: "1" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const until = Date.now() + 90_000;
  for (;;) {
    try {
      const h = (await (await fetch(`${serviceUrl}/health`)).json()) as { model_ready: boolean; error: string | null };
      if (h.model_ready) break;
      if (h.error) throw new Error(h.error);
    } catch (e) {
      if (e instanceof Error && !/fetch failed|ECONNREFUSED/.test(e.message)) throw e;
    }
    if (Date.now() > until) throw new Error("the GPU function did not become ready");
    await new Promise((r) => setTimeout(r, 250));
  }
}, 120_000);

afterAll(async () => {
  if (service.pid) process.kill(service.pid, "SIGTERM");
  peerServer.close();
});

function job(id: string, overrides: Partial<GpuJobRequest["spec"]> = {}, image = "astronaut"): GpuJobRequest {
  return {
    protocol: "ecomid.gpu/1",
    job_id: id,
    attempt: 1,
    model: "ecomid-tiny",
    bundle_version: "ecomid-tiny@0.1.0",
    spec: {
      prompt: "a studio portrait",
      negative_prompt: "",
      reference_images: [{ url: `${peer.base}/in/${image}`, content_type: "image/png", sha256: "x", bytes: 1 }],
      keypoints: { type: "reference" },
      identity_strength: 0.3,
      structure_strength: 0.8,
      id_mode: "fidelity",
      id_noise: 0,
      steps: 3,
      guidance: 3.5,
      sampler: "euler",
      seed: 5,
      width: 64,
      height: 64,
      num_outputs: 1,
      output_format: "webp",
      output_quality: 80,
      ...overrides,
    },
    outputs: [{ index: 0, put_url: `${peer.base}/out/${id}-0`, content_type: "image/webp", max_bytes: 1e7 }],
    intermediates: [{ kind: "keypoint_image", put_url: `${peer.base}/out/${id}-kp`, content_type: "image/png", max_bytes: 1e7 }],
    callback: { url: `${peer.base}/cb/${id}`, secret: SECRET },
    deadline_at: null,
    progress_previews: true,
  };
}

const dispatch = (request: unknown, token = TOKEN) =>
  fetch(`${serviceUrl}/v1/jobs`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify(request) });

async function outcome(id: string, timeoutMs = 60_000): Promise<GpuCallback> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const last = peer.callbacks.get(id)?.find((c) => c.type === "succeeded" || c.type === "failed");
    if (last) return last;
    if (Date.now() > until) throw new Error(`no outcome for ${id}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("GPU function service", () => {
  it("reports health with the execution provider, and refuses bad dispatches", async () => {
    const health = (await (await fetch(`${serviceUrl}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: "ok", model_ready: true, execution_provider: "cpu", in_flight: 0, capacity: 1 });
    expect((await dispatch(job("job_a"), "wrong-token-0123456789")).status).toBe(401);
    const bad = await dispatch({ protocol: "ecomid.gpu/1", job_id: "x" });
    expect(bad.status).toBe(400);
    expect(health.bundle).toBe("ecomid-tiny@0.1.0");
    const otherBundle = await dispatch({ ...job("job_other_bundle"), bundle_version: "ecomid-tiny@9.9.9" });
    expect(otherBundle.status).toBe(409);
    expect(((await otherBundle.json()) as { code: string }).code).toBe("bundle_mismatch");
  });

  it("runs a job: signed progress callbacks, outputs through the PUT URLs, a succeeded report that matches them", async () => {
    expect((await dispatch(job("job_ok"))).status).toBe(202);
    const done = await outcome("job_ok");
    expect(done.type).toBe("succeeded");
    if (done.type !== "succeeded") return;
    const progress = peer.callbacks.get("job_ok")!.filter((c) => c.type === "progress");
    const steps = progress.flatMap((c) => (c.type === "progress" && c.progress.stage === "denoising" ? [c.progress.step] : []));
    expect(steps).toEqual([1, 2, 3]);
    expect(progress.some((c) => c.type === "progress" && c.preview?.startsWith("data:image/webp;base64,"))).toBe(true);
    const uploaded = peer.uploads.get("job_ok-0")!;
    const meta = await sharp(uploaded).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["webp", 64, 64]);
    const { createHash } = await import("node:crypto");
    expect(done.outputs[0]).toMatchObject({ index: 0, bytes: uploaded.byteLength, sha256: createHash("sha256").update(uploaded).digest("hex"), seed: 5 });
    expect(done.faces).toHaveLength(1);
    expect(done.intermediates).toEqual([{ kind: "keypoint_image", content_type: "image/png" }]);
    expect((await sharp(peer.uploads.get("job_ok-kp")!).metadata()).width).toBe(512);
    expect(done.timings.stages_ms).toHaveProperty("denoise");
    expect(peer.badSignatures).toBe(0);
  });

  it("answers 429 while full, and a canceled job stops without a result", async () => {
    expect((await dispatch(job("job_long", { steps: 40 }))).status).toBe(202);
    const busy = await dispatch(job("job_other"));
    expect(busy.status).toBe(429);
    expect(busy.headers.get("retry-after")).toBe("2");
    // Let it start denoising, then cancel through the edge's route.
    const until = Date.now() + 30_000;
    while (!peer.callbacks.get("job_long")?.some((c) => c.type === "progress" && c.progress.stage === "denoising")) {
      if (Date.now() > until) throw new Error("never started denoising");
      await new Promise((r) => setTimeout(r, 50));
    }
    const cancel = await fetch(`${serviceUrl}/v1/jobs/job_long/cancel`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(cancel.status).toBe(202);
    for (let i = 0; i < 100 && ((await (await fetch(`${serviceUrl}/health`)).json()) as { in_flight: number }).in_flight > 0; i++) await new Promise((r) => setTimeout(r, 100));
    const steps = peer.callbacks.get("job_long")!.filter((c) => c.type === "progress" && c.progress.stage === "denoising").length;
    expect(steps).toBeLessThan(40);
    expect(peer.callbacks.get("job_long")!.some((c) => c.type === "succeeded")).toBe(false);
    expect(peer.uploads.has("job_long-0")).toBe(false);
  });

  it("stops when the edge's callback answer says the job was canceled", async () => {
    peer.cancelJobs.add("job_edge_cancel");
    expect((await dispatch(job("job_edge_cancel", { steps: 40 }))).status).toBe(202);
    for (let i = 0; i < 200 && ((await (await fetch(`${serviceUrl}/health`)).json()) as { in_flight: number }).in_flight > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(peer.callbacks.get("job_edge_cancel")!.some((c) => c.type === "succeeded")).toBe(false);
  });

  it("fails a job without a face with face_not_detected and a hint", async () => {
    expect((await dispatch(job("job_noface", {}, "coffee"))).status).toBe(202);
    const done = await outcome("job_noface");
    expect(done).toMatchObject({ type: "failed", error: { code: "face_not_detected", retryable: false } });
    if (done.type === "failed") expect(done.error.hint).toMatch(/pad the image/);
  });

  it("exposes Prometheus metrics", async () => {
    const text = await (await fetch(`${serviceUrl}/metrics`)).text();
    expect(text).toMatch(/gpu_jobs_total\{outcome="succeeded"\} [1-9]/);
    expect(text).toMatch(/gpu_job_errors_total\{code="face_not_detected"\} 1/);
    expect(text).toMatch(/gpu_model_load_seconds \d/);
    expect(text).toMatch(/gpu_stage_seconds_bucket\{stage="denoise",le="\+Inf"\} \d/);
  });
});
