import { fork, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { GpuJobRequest } from "../../../shared/src/protocol/gpu-protocol.js";
import type { JobError } from "../../../shared/src/errors.js";
import type { ServiceConfig } from "../runtime/config.js";
import { log } from "../runtime/log.js";
import type { FromWorker, ToWorker } from "../worker/messages.js";
import { download, postCallback, upload } from "./callbacks.js";
import type { Metrics } from "./metrics.js";

const WORKER_ENTRY = fileURLToPath(new URL("../worker/worker-main.ts", import.meta.url));

interface RunningJob {
  request: GpuJobRequest;
  canceled: boolean;
  acceptedAt: number;
  heartbeat: NodeJS.Timeout;
  deadline: NodeJS.Timeout | null;
}

export type AcceptResult = "accepted" | "duplicate" | "busy" | "not_ready";

/**
 * Owns the inference child process (onnxruntime's run() blocks its event loop, so it
 * never runs in this HTTP process) and the jobs given to it: downloads inputs, relays
 * progress as signed callbacks, uploads outputs through the signed PUT URLs, reports
 * the outcome. A crashed child fails its jobs as retryable and is started again.
 */
export class JobRunner {
  private child: ChildProcess | null = null;
  private readonly jobs = new Map<string, RunningJob>();
  private ready = false;
  private stopping = false;
  provider: "cuda" | "cpu" | null = null;
  bundleId: string | null = null;
  loadError: string | null = null;

  constructor(
    private readonly config: ServiceConfig,
    private readonly metrics: Metrics,
  ) {}

  get isReady() {
    return this.ready;
  }
  get inFlight() {
    return this.jobs.size;
  }

  start(): void {
    const started = Date.now();
    const child = fork(WORKER_ENTRY, [], {
      execArgv: ["--import", "tsx"],
      serialization: "advanced",
      env: { ...process.env },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child = child;
    child.on("message", (m: FromWorker) => void this.onMessage(m));
    child.on("exit", (code, signal) => {
      this.ready = false;
      this.child = null;
      if (this.stopping) return;
      log("error", "inference process exited; failing its jobs as retryable and restarting", { code, signal });
      this.metrics.inc("gpu_worker_restarts_total");
      for (const job of [...this.jobs.values()]) {
        void this.finishFailed(job, { code: "worker_crashed", message: "the inference process stopped", retryable: true });
      }
      setTimeout(() => this.start(), 1000);
    });
    log("info", "starting inference process", { bundle: this.config.bundleDir, provider: this.config.provider, since: started });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.child?.kill("SIGTERM");
  }

  accept(request: GpuJobRequest): AcceptResult {
    const existing = this.jobs.get(request.job_id);
    if (existing && existing.request.attempt === request.attempt) return "duplicate";
    if (!this.ready || !this.child) return "not_ready";
    if (this.jobs.size >= this.config.jobsPerDevice) return "busy";
    const job: RunningJob = {
      request,
      canceled: false,
      acceptedAt: Date.now(),
      // Between progress callbacks (long stages, slow CPU) a heartbeat keeps the edge's lease alive.
      heartbeat: setInterval(() => void this.callback(job, { type: "started", attempt: request.attempt, worker: this.config.workerId }), this.config.heartbeatMs),
      deadline: null,
    };
    this.jobs.set(request.job_id, job);
    this.metrics.inc("gpu_jobs_accepted_total");
    this.metrics.set("gpu_jobs_in_flight", this.jobs.size);
    void this.begin(job);
    return "accepted";
  }

  cancel(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (!job) return false;
    job.canceled = true;
    this.send({ type: "cancel", jobId });
    return true;
  }

  private async begin(job: RunningJob): Promise<void> {
    const r = job.request;
    const answer = await this.callback(job, { type: "started", attempt: r.attempt, worker: this.config.workerId });
    if (answer?.cancel) return this.finishCanceled(job);
    let references: Uint8Array[];
    let keypointImage: Uint8Array | null = null;
    try {
      references = await Promise.all(r.spec.reference_images.map((img) => download(img.url, this.config.maxInputBytes)));
      const kp = r.spec.keypoints;
      if (kp.type === "pose_image" || kp.type === "keypoint_image") keypointImage = await download(kp.image.url, this.config.maxInputBytes);
    } catch (e) {
      return this.finishFailed(job, { code: "input_fetch_failed", message: `could not download an input: ${(e as Error).message}`, retryable: true });
    }
    const deadlineMs = r.deadline_at ? Date.parse(r.deadline_at) : null;
    if (deadlineMs !== null) {
      job.deadline = setTimeout(() => this.cancel(r.job_id), Math.max(0, deadlineMs - Date.now()));
    }
    this.send({ type: "run", jobId: r.job_id, spec: r.spec, references, keypointImage, intermediates: r.intermediates.map((i) => i.kind), deadlineMs });
  }

  private async onMessage(m: FromWorker): Promise<void> {
    if (m.type === "ready") {
      this.ready = true;
      this.provider = m.provider;
      this.bundleId = m.bundleId;
      this.metrics.set("gpu_model_load_seconds", m.loadMs / 1000);
      this.metrics.set("gpu_model_warmup_seconds", m.warmupMs / 1000);
      log("info", `model ready on ${m.provider.toUpperCase()}`, { bundle: m.bundleId, loadMs: m.loadMs, warmupMs: m.warmupMs });
      return;
    }
    if (m.type === "load_failed") {
      this.loadError = m.message;
      log("error", "model bundle failed to load", { error: m.message });
      return;
    }
    const job = this.jobs.get(m.jobId);
    if (!job) return;
    const attempt = job.request.attempt;
    if (m.type === "progress") {
      const preview = m.preview && job.request.progress_previews ? `data:image/webp;base64,${Buffer.from(m.preview).toString("base64")}` : undefined;
      const answer = await this.callback(job, {
        type: "progress",
        attempt,
        progress: { stage: m.stage, step: m.step, total_steps: m.totalSteps },
        ...(preview ? { preview } : {}),
      });
      if (answer?.cancel && !job.canceled) this.cancel(m.jobId);
    } else if (m.type === "result") {
      if (job.canceled) return this.finishCanceled(job);
      try {
        for (const o of m.outputs) {
          const target = job.request.outputs.find((t) => t.index === o.index);
          if (!target) throw new Error(`no upload URL for output ${o.index}`);
          await upload(target.put_url, target.content_type, o.bytes);
        }
        for (const i of m.intermediates) {
          const target = job.request.intermediates.find((t) => t.kind === i.kind);
          if (target) await upload(target.put_url, target.content_type, i.bytes);
        }
      } catch (e) {
        return this.finishFailed(job, { code: "output_upload_failed", message: (e as Error).message, retryable: true }, m.stagesMs);
      }
      await this.callback(job, {
        type: "succeeded",
        attempt,
        outputs: m.outputs.map((o) => ({
          index: o.index,
          content_type: o.contentType,
          bytes: o.bytes.byteLength,
          sha256: createHash("sha256").update(o.bytes).digest("hex"),
          width: o.width,
          height: o.height,
          seed: o.seed,
          identity_similarity: o.identitySimilarity,
        })),
        intermediates: m.intermediates.filter((i) => job.request.intermediates.some((t) => t.kind === i.kind)).map((i) => ({ kind: i.kind, content_type: i.contentType })),
        faces: m.faces,
        chosen_face: m.chosenFace,
        timings: { run_ms: Date.now() - job.acceptedAt, stages_ms: m.stagesMs },
      });
      this.done(job, "succeeded", m.stagesMs);
    } else if (m.type === "canceled") {
      this.finishCanceled(job);
    } else if (m.type === "failed") {
      await this.finishFailed(job, m.error, m.stagesMs, m.faces);
    }
  }

  private async finishFailed(job: RunningJob, error: JobError, stagesMs: Record<string, number> = {}, faces?: FaceList): Promise<void> {
    if (!this.jobs.has(job.request.job_id)) return;
    this.metrics.inc("gpu_job_errors_total", { code: error.code });
    await this.callback(job, {
      type: "failed",
      attempt: job.request.attempt,
      error,
      ...(faces ? { faces } : {}),
      timings: { run_ms: Date.now() - job.acceptedAt, stages_ms: stagesMs },
    });
    this.done(job, "failed", stagesMs);
  }

  private finishCanceled(job: RunningJob): void {
    this.done(job, "canceled", {});
  }

  private done(job: RunningJob, outcome: string, stagesMs: Record<string, number>): void {
    clearInterval(job.heartbeat);
    if (job.deadline) clearTimeout(job.deadline);
    this.jobs.delete(job.request.job_id);
    this.metrics.inc("gpu_jobs_total", { outcome });
    this.metrics.set("gpu_jobs_in_flight", this.jobs.size);
    this.metrics.observe("gpu_job_seconds", (Date.now() - job.acceptedAt) / 1000, { outcome });
    for (const [stage, ms] of Object.entries(stagesMs)) this.metrics.observe("gpu_stage_seconds", ms / 1000, { stage });
  }

  private callback(job: RunningJob, cb: Parameters<typeof postCallback>[1]) {
    return postCallback(job.request, cb, this.config.callbackAttempts);
  }

  private send(message: ToWorker): void {
    this.child?.send(message);
  }
}

type FaceList = NonNullable<Extract<FromWorker, { type: "failed" }>["faces"]>;
