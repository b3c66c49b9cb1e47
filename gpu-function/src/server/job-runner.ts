import { fork, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import type { GpuJobRequest } from "@ecomid/shared/protocol";
import type { JobError } from "@ecomid/shared/api";
import type { ServiceConfig } from "../runtime/config.js";
import { layout } from "../runtime/layout.js";
import { boundLog, log, type Logger } from "../runtime/log.js";
import type { ControlImageBytes } from "../pipelines/control-inputs.js";
import type { FromWorker, ToWorker } from "../worker/messages.js";
import { download, postCallback, upload } from "./callbacks.js";
import type { Metrics } from "./metrics.js";

/** A hand-back at shutdown must fit the grace period: fewer, shorter callback tries. */
const HAND_BACK_ATTEMPTS = 3;
const HAND_BACK_TIMEOUT_MS = 3000;
/** Every hand-back try timing out, plus postCallback's backoff between tries (0.4 s, 0.8 s). */
const HAND_BACK_WAIT_MS = HAND_BACK_ATTEMPTS * HAND_BACK_TIMEOUT_MS + 1200;
const STOP_WAIT_MS = 5000;
/**
 * The most a shutdown takes after DRAIN_SECONDS run out: hand-backs, then stopping the
 * inference process. An orchestrator's grace period must cover preStop + drain + this.
 */
export const SHUTDOWN_AFTER_DRAIN_MS = HAND_BACK_WAIT_MS + STOP_WAIT_MS;

interface RunningJob {
  request: GpuJobRequest;
  requestId: string;
  log: Logger;
  canceled: boolean;
  /** An outcome is being reported (or the job was handed back): nothing may report another. */
  settled: boolean;
  acceptedAt: number;
  /** Handed to the inference process (after its inputs were downloaded). */
  inWorker: boolean;
  heartbeat: NodeJS.Timeout;
  deadline: NodeJS.Timeout | null;
}

export type AcceptResult = "accepted" | "duplicate" | "busy" | "not_ready" | "draining";
export type DrainResult = { finished: number; handedBack: number };

/**
 * Owns the inference child process (onnxruntime's run() blocks its event loop, so it
 * never runs in this HTTP process) and the jobs given to it: downloads inputs, relays
 * progress as signed callbacks, uploads outputs through the signed PUT URLs, reports
 * the outcome. A crashed child fails its jobs as retryable and is started again.
 * On shutdown it drains: jobs in flight may finish, and are handed back to the edge
 * (a retryable worker_shutdown failure) when they do not finish in time.
 */
export class JobRunner {
  private child: ChildProcess | null = null;
  private readonly jobs = new Map<string, RunningJob>();
  private readonly idleWaiters = new Set<() => void>();
  private ready = false;
  private stopping = false;
  private draining = false;
  /** When the inference process last sent anything, or was last given work while idle. */
  private lastHeardAt = Date.now();
  private stalled = false;
  private watchdog: NodeJS.Timeout | null = null;
  provider: "cuda" | "cpu" | null = null;
  bundleId: string | null = null;
  loadError: string | null = null;

  constructor(
    private readonly config: ServiceConfig,
    private readonly metrics: Metrics,
  ) {
    metrics.set("gpu_jobs_capacity", config.jobsPerDevice);
  }

  get isReady() {
    return this.ready;
  }
  get isDraining() {
    return this.draining;
  }
  get inFlight() {
    return this.jobs.size;
  }

  start(): void {
    const child = fork(layout.inferenceEntry, [], {
      execArgv: layout.inferenceExecArgv,
      serialization: "advanced",
      env: { ...process.env },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child = child;
    this.stalled = false;
    this.watchdog ??= setInterval(() => this.checkStalled(), Math.min(this.config.stallMs / 4, 5000)).unref();
    child.on("message", (m: FromWorker) => {
      this.lastHeardAt = Date.now();
      void this.onMessage(m);
    });
    child.on("exit", (code, signal) => {
      this.setReady(false);
      this.child = null;
      if (this.stopping) return;
      if (this.draining) {
        // No restart while shutting down: what it was running goes back to the edge now.
        log("warn", "inference process exited while draining; handing its jobs back", { code, signal });
        for (const job of [...this.jobs.values()]) void this.handBack(job);
        return;
      }
      log("error", "inference process exited; failing its jobs as retryable and restarting", { code, signal, in_flight: this.jobs.size });
      this.metrics.inc("gpu_worker_restarts_total");
      const message = this.stalled
        ? `the inference process made no progress for ${this.config.stallMs / 1000} s and was restarted`
        : "the inference process stopped";
      for (const job of [...this.jobs.values()]) {
        void this.finishFailed(job, { code: "worker_crashed", message, retryable: true });
      }
      setTimeout(() => this.start(), 1000);
    });
    log("info", "starting inference process", { bundle: this.config.bundleDir, provider: this.config.provider });
  }

  /**
   * Refuses new jobs, lets those in flight run for up to DRAIN_SECONDS, then stops the
   * rest and hands them back so the edge re-dispatches them at once instead of waiting
   * for its lease to run out. Resolves when every job has reported its outcome.
   */
  async drain(): Promise<DrainResult> {
    this.draining = true;
    this.metrics.set("gpu_draining", 1);
    const before = this.jobs.size;
    log("info", "draining", { in_flight: before, drain_seconds: this.config.drainMs / 1000 });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.whenIdle().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.config.drainMs))),
    ]);
    clearTimeout(timer);
    let handedBack = 0;
    if (timedOut) {
      const unfinished = [...this.jobs.values()].filter((job) => !job.settled);
      handedBack = unfinished.length;
      for (const job of unfinished) void this.handBack(job);
      // Hand-backs, and any outcome that was already on its way when time ran out, get a bounded moment.
      await Promise.race([this.whenIdle(), new Promise((r) => setTimeout(r, HAND_BACK_WAIT_MS).unref())]);
    }
    const result = { finished: before - handedBack, handedBack };
    log("info", "drained", { finished: result.finished, handed_back: handedBack });
    return result;
  }

  /** Stops the inference process; it ignores signals, so it is killed outright (it holds nothing to save). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await Promise.race([exited, new Promise((r) => setTimeout(r, STOP_WAIT_MS).unref())]);
  }

  accept(request: GpuJobRequest, requestId: string): AcceptResult {
    const existing = this.jobs.get(request.job_id);
    if (existing && existing.request.attempt === request.attempt) return "duplicate";
    const refused = this.draining
      ? "draining"
      : !this.ready || !this.child
        ? "not_ready"
        : this.jobs.size >= this.config.jobsPerDevice
          ? "busy"
          : null;
    if (refused) {
      this.metrics.inc("gpu_dispatch_refused_total", { reason: refused });
      log("info", "dispatch refused", { job_id: request.job_id, request_id: requestId, attempt: request.attempt, reason: refused });
      return refused;
    }
    const job: RunningJob = {
      request,
      requestId,
      log: boundLog({ job_id: request.job_id, request_id: requestId, attempt: request.attempt }),
      canceled: false,
      settled: false,
      acceptedAt: Date.now(),
      inWorker: false,
      // Between progress callbacks (long stages, slow CPU) a heartbeat keeps the edge's lease alive.
      heartbeat: setInterval(() => void this.heartbeat(job), this.config.heartbeatMs),
      deadline: null,
    };
    this.jobs.set(request.job_id, job);
    this.metrics.inc("gpu_jobs_accepted_total");
    this.updateLoad();
    job.log("info", "job accepted", { model: request.model, bundle_version: request.bundle_version, in_flight: this.jobs.size });
    void this.begin(job);
    return "accepted";
  }

  cancel(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (!job) return false;
    job.canceled = true;
    job.log("info", "canceling");
    this.send({ type: "cancel", jobId });
    return true;
  }

  private async begin(job: RunningJob): Promise<void> {
    const r = job.request;
    const answer = await this.callback(job, { type: "started", attempt: r.attempt, worker: this.config.workerId });
    if (answer?.cancel) return this.finishCanceled(job);
    let references: Uint8Array[];
    let keypointImage: Uint8Array | null = null;
    const controlImages: ControlImageBytes = { inpaintImage: null, inpaintMask: null, softedgeImage: null };
    const downloadStart = Date.now();
    try {
      references = await Promise.all(r.spec.reference_images.map((img) => download(img.url, this.config.maxInputBytes)));
      const kp = r.spec.keypoints;
      if (kp.type === "pose_image" || kp.type === "keypoint_image") keypointImage = await download(kp.image.url, this.config.maxInputBytes);
      const { inpaint, softedge } = r.spec;
      if (inpaint) controlImages.inpaintImage = await download(inpaint.image.url, this.config.maxInputBytes);
      if (inpaint?.mask) controlImages.inpaintMask = await download(inpaint.mask.url, this.config.maxInputBytes);
      if (softedge)
        controlImages.softedgeImage = await download(
          ("image" in softedge ? softedge.image : softedge.edge_map).url,
          this.config.maxInputBytes,
        );
    } catch (e) {
      return this.finishFailed(job, {
        code: "input_fetch_failed",
        message: `could not download an input: ${(e as Error).message}`,
        retryable: true,
      });
    }
    const downloadMs = Date.now() - downloadStart;
    this.metrics.observe("gpu_stage_seconds", downloadMs / 1000, { stage: "download" });
    if (job.settled) return; // handed back (or the inference process died) while downloading
    if (job.canceled) return this.finishCanceled(job); // the edge said stop while the inputs downloaded
    const deadlineMs = r.deadline_at ? Date.parse(r.deadline_at) : null;
    if (deadlineMs !== null) {
      job.deadline = setTimeout(() => this.cancel(r.job_id), Math.max(0, deadlineMs - Date.now()));
    }
    // Time the process spent idle is not a stall.
    if (![...this.jobs.values()].some((j) => j.inWorker)) this.lastHeardAt = Date.now();
    job.inWorker = true;
    job.log("info", "inputs downloaded; job sent to inference", { download_ms: downloadMs });
    this.send({
      type: "run",
      jobId: r.job_id,
      requestId: job.requestId,
      attempt: r.attempt,
      spec: r.spec,
      references,
      keypointImage,
      controlImages,
      intermediates: r.intermediates.map((i) => i.kind),
      deadlineMs,
    });
  }

  private async onMessage(m: FromWorker): Promise<void> {
    if (m.type === "ready") {
      this.setReady(true);
      this.loadError = null;
      this.provider = m.provider;
      this.bundleId = m.bundleId;
      this.metrics.set("gpu_model_load_seconds", m.loadMs / 1000);
      this.metrics.set("gpu_model_warmup_seconds", m.warmupMs / 1000);
      this.metrics.set("gpu_model_load_failed", 0);
      log("info", `model ready on ${m.provider.toUpperCase()}`, { bundle: m.bundleId, load_ms: m.loadMs, warmup_ms: m.warmupMs });
      return;
    }
    if (m.type === "load_failed") {
      this.loadError = m.message;
      this.metrics.set("gpu_model_load_failed", 1);
      log("error", "model bundle failed to load", { bundle: this.config.bundleDir, error: m.message });
      return;
    }
    const job = this.jobs.get(m.jobId);
    if (!job) return;
    // The inference process is done with it (uploads and callbacks follow here): no longer its work.
    if (m.type === "result" || m.type === "failed" || m.type === "canceled") job.inWorker = false;
    if (job.settled) return;
    const attempt = job.request.attempt;
    if (m.type === "running") {
      this.metrics.observe("gpu_job_queue_wait_seconds", (Date.now() - job.acceptedAt) / 1000);
    } else if (m.type === "progress") {
      const preview =
        m.preview && job.request.progress_previews ? `data:image/webp;base64,${Buffer.from(m.preview).toString("base64")}` : undefined;
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
          if (job.canceled) return this.finishCanceled(job);
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
      if (job.settled) return; // handed back while uploading: the edge has re-dispatched it
      job.settled = true;
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
        intermediates: m.intermediates
          .filter((i) => job.request.intermediates.some((t) => t.kind === i.kind))
          .map((i) => ({ kind: i.kind, content_type: i.contentType })),
        faces: m.faces,
        chosen_face: m.chosenFace,
        timings: { run_ms: Date.now() - job.acceptedAt, stages_ms: m.stagesMs },
        provenance: m.provenance,
      });
      this.done(job, "succeeded", m.stagesMs);
    } else if (m.type === "canceled") {
      this.finishCanceled(job);
    } else if (m.type === "failed") {
      await this.finishFailed(job, m.error, m.stagesMs, m.faces);
    }
  }

  /** Keeps the edge's lease alive; an answer that says stop (a cancel, a refusal) stops the job. */
  private async heartbeat(job: RunningJob): Promise<void> {
    const answer = await this.callback(job, { type: "started", attempt: job.request.attempt, worker: this.config.workerId });
    if (answer?.cancel && !job.canceled && !job.settled) this.cancel(job.request.job_id);
  }

  /** Stops a job that cannot finish before shutdown and tells the edge to run it elsewhere now. */
  private async handBack(job: RunningJob): Promise<void> {
    if (job.settled) return;
    this.send({ type: "cancel", jobId: job.request.job_id });
    job.log("warn", "handing the job back: shutting down before it finished");
    await this.finishFailed(
      job,
      {
        code: "worker_shutdown",
        message: "the GPU function shut down before the job finished; it is run again elsewhere",
        retryable: true,
      },
      {},
      undefined,
      { attempts: HAND_BACK_ATTEMPTS, timeoutMs: HAND_BACK_TIMEOUT_MS },
    );
  }

  private async finishFailed(
    job: RunningJob,
    error: JobError,
    stagesMs: Record<string, number> = {},
    faces?: FaceList,
    tries?: { attempts: number; timeoutMs: number },
  ): Promise<void> {
    if (job.settled) return;
    job.settled = true;
    this.metrics.inc("gpu_job_errors_total", { code: error.code });
    job.log(error.code === "internal_error" || error.code === "worker_crashed" ? "error" : "info", "job failed", {
      code: error.code,
      retryable: error.retryable,
      error: error.message,
    });
    await this.callback(
      job,
      {
        type: "failed",
        attempt: job.request.attempt,
        error,
        ...(faces ? { faces } : {}),
        timings: { run_ms: Date.now() - job.acceptedAt, stages_ms: stagesMs },
      },
      tries,
    );
    this.done(job, "failed", stagesMs);
  }

  private finishCanceled(job: RunningJob): void {
    if (job.settled) return;
    job.settled = true;
    this.done(job, "canceled", {});
  }

  private done(job: RunningJob, outcome: "succeeded" | "failed" | "canceled", stagesMs: Record<string, number>): void {
    clearInterval(job.heartbeat);
    if (job.deadline) clearTimeout(job.deadline);
    if (this.jobs.get(job.request.job_id) !== job) return;
    this.jobs.delete(job.request.job_id);
    const seconds = (Date.now() - job.acceptedAt) / 1000;
    this.metrics.inc("gpu_jobs_total", { outcome });
    this.metrics.observe("gpu_job_seconds", seconds, { outcome });
    for (const [stage, ms] of Object.entries(stagesMs)) this.metrics.observe("gpu_stage_seconds", ms / 1000, { stage });
    this.updateLoad();
    job.log("info", `job ${outcome}`, { outcome, seconds, stages_ms: stagesMs });
    if (this.jobs.size === 0) {
      for (const resolve of this.idleWaiters) resolve();
      this.idleWaiters.clear();
    }
  }

  /** Kills an inference process that went silent during a job; its exit fails the jobs as retryable. */
  private checkStalled(): void {
    const child = this.child;
    if (!child || this.stalled || this.stopping) return;
    const silentMs = Date.now() - this.lastHeardAt;
    const working = [...this.jobs.values()].filter((j) => j.inWorker && !j.settled);
    if (working.length === 0 || silentMs < this.config.stallMs) return;
    this.stalled = true;
    this.metrics.inc("gpu_worker_stalls_total");
    log("error", "inference process stalled; killing it", { silent_ms: silentMs, job_ids: working.map((j) => j.request.job_id) });
    child.kill("SIGKILL");
  }

  private whenIdle(): Promise<void> {
    return this.jobs.size === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.add(resolve));
  }

  private updateLoad(): void {
    this.metrics.set("gpu_jobs_in_flight", this.jobs.size);
    this.metrics.set("gpu_busy_ratio", this.jobs.size / this.config.jobsPerDevice);
  }

  private setReady(ready: boolean): void {
    this.ready = ready;
    this.metrics.set("gpu_model_ready", ready ? 1 : 0);
  }

  private async callback(job: RunningJob, cb: Parameters<typeof postCallback>[1], tries?: { attempts: number; timeoutMs: number }) {
    const answer = await postCallback(job.request, cb, {
      attempts: tries?.attempts ?? this.config.callbackAttempts,
      timeoutMs: tries?.timeoutMs,
      requestId: job.requestId,
      log: job.log,
    });
    if (answer === null) {
      this.metrics.inc("gpu_callback_failures_total", { type: cb.type });
      job.log("error", "the edge never answered a callback", { type: cb.type });
    }
    return answer;
  }

  private send(message: ToWorker): void {
    if (this.child?.connected) this.child.send(message);
  }
}

type FaceList = NonNullable<Extract<FromWorker, { type: "failed" }>["faces"]>;
