import { DurableObject } from "cloudflare:workers";
import { isTerminal, type JobEventType, type JobStatus, OUTPUT_CONTENT_TYPES } from "@ecomid/shared/api";
import type { JobError } from "@ecomid/shared/api";
import { DEFAULT_GPU_PROVENANCE, GpuCallback, PROTOCOL_VERSION, type GpuCallbackAnswer, type GpuJobRequest } from "@ecomid/shared/protocol";
import { getConfig } from "../config/config.js";
import type { AppBindings } from "../env.js";
import { EXTENSION_BY_FORMAT, r2Keys, storedInputImages, type DispatchState, type StoredJob } from "../jobs/types.js";
import { resolvedControlInputs } from "../jobs/control-inputs.js";
import { callbackSecret } from "../jobs/callback-secret.js";
import { log } from "../lib/log.js";
import { signFileUrl } from "../lib/signed-urls.js";
import { enqueueWebhook } from "../webhooks/enqueue.js";
import { dueAction, jobClock, nextAlarmAt, outputSweepAt } from "../jobs/job-timers.js";
import { cacheResult } from "../jobs/result-cache.js";
import { successReportMismatch, wantsPreviews } from "../jobs/check-report.js";
import { releaseBlobs } from "../jobs/input-blobs.js";
import { jobIndexWriter } from "./job-index-writer.js";
import { EventStreams } from "./event-streams.js";
import { poolMonitor } from "./pool-monitor.js";
import { fetchPool } from "../pools/pool-fetch.js";

/** A deleted job's prefix and when it is swept a last time (its output URLs' expiry plus a grace). */
interface Tombstone {
  prefix: string;
  sweep_at_ms: number;
}

export type CallbackOutcome = {
  status: number;
  answer: GpuCallbackAnswer;
  code?: "signature_invalid" | "not_found" | "stale_attempt" | "invalid_request";
  detail?: string;
};

const MAX_OUTPUT_BYTES = 40 * 1024 * 1024;
const DISPATCH_URL_TTL_SECONDS = 2 * 3600;
/** Hand-backs from draining GPU functions that do not count as attempts; more than this and they do. */
const MAX_HANDBACKS = 5;

/**
 * One per job: the job's state machine, its event log (for SSE replay and webhooks),
 * its lease and deadline alarms. Every change is written to this object's storage
 * before the call that caused it returns; status changes then go to the D1 listing
 * index through the index writer (job-index-writer.ts).
 */
export class JobObject extends DurableObject<AppBindings> {
  private readonly sql: SqlStorage;
  private readonly streams = new EventStreams();
  private stored: StoredJob | null = null;
  private dispatch: DispatchState | null = null;
  /** What is left of a deleted job whose output PUT URLs were still valid: its prefix, swept again once they expire. */
  private tombstone: Tombstone | null = null;

  /**
   * Reads the job, if there is one. Tables are created once, by create(): an object
   * reached for an id that was never a job (or was purged) writes nothing, and a job
   * object that is instantiated again runs no schema statement.
   */
  constructor(ctx: DurableObjectState, env: AppBindings) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    if (!this.hasTables()) return;
    const rows = this.sql.exec<{ name: string; value: string }>(`SELECT name, value FROM state`).toArray();
    for (const r of rows) {
      if (r.name === "stored") this.stored = JSON.parse(r.value) as StoredJob;
      if (r.name === "dispatch") this.dispatch = JSON.parse(r.value) as DispatchState;
      if (r.name === "tombstone") this.tombstone = JSON.parse(r.value) as Tombstone;
    }
  }

  private hasTables(): boolean {
    return this.sql.exec(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'state'`).toArray().length > 0;
  }

  private createTables(): void {
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS events (sequence INTEGER PRIMARY KEY, type TEXT NOT NULL, at TEXT NOT NULL, data TEXT NOT NULL)`,
    );
    this.sql.exec(`CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value TEXT NOT NULL)`);
  }

  private get config() {
    return getConfig(this.env);
  }

  // ---- creation and reads -------------------------------------------------

  async create(stored: StoredJob, options: { dispatch: boolean }): Promise<void> {
    if (this.stored) return; // a retried create is a no-op
    this.createTables();
    this.stored = stored;
    this.dispatch = { pool: null, lease_until_ms: null, queued_since_ms: Date.now(), last_step: -1, last_stage: null };
    await this.persist();
    this.mirror();
    await this.appendEvent("job.queued", { status: "queued" });
    if (isTerminal(stored.core.status)) {
      await this.appendEvent(`job.${stored.core.status}` as JobEventType, { status: stored.core.status, cached: stored.core.cached });
      await this.onTerminal();
      await this.scheduleAlarm();
    }
    if (options.dispatch) {
      await this.env.DISPATCH_QUEUE.send({ job_id: stored.core.id, attempt: 1 });
      await this.scheduleAlarm();
    }
  }

  get(): StoredJob | null {
    return this.stored;
  }

  /**
   * Whether a signed output PUT of `attempt` may still write (files.ts asks before
   * storing): only the current attempt of a job that is running, or that succeeded (a
   * retried upload of the same bytes). A deleted or purged job, a superseded attempt and
   * a job that ended otherwise take nothing, so the GPU function learns to stop.
   */
  acceptsOutputs(attempt: number): "ok" | "not_found" | "stale_attempt" {
    const s = this.stored;
    if (!s || s.core.data_removed) return "not_found";
    if (attempt !== s.core.attempt) return "stale_attempt";
    return isTerminal(s.core.status) && s.core.status !== "succeeded" ? "stale_attempt" : "ok";
  }

  // ---- dispatch -----------------------------------------------------------

  /** Builds the GPU request for `attempt`, or null when the message is stale (job moved on). */
  async prepareDispatch(attempt: number): Promise<{ request: GpuJobRequest; requestId: string | null } | null> {
    const s = this.stored;
    if (!s || !this.dispatch || s.core.status !== "queued" || s.core.attempt !== attempt) return null;
    // Already with a GPU (a duplicate or wake-up message): one attempt never runs twice.
    if (this.dispatch.lease_until_ms !== null) return null;
    this.dispatch.last_try_ms = Date.now();
    const exp = Math.floor(Date.now() / 1000) + DISPATCH_URL_TTL_SECONDS;
    if (s.core.deadline_at && Date.parse(s.core.deadline_at) <= Date.now()) {
      await this.persist();
      await this.finish("aborted", {
        code: "deadline_exceeded",
        message: "the deadline passed before a GPU started the job",
        retryable: false,
      });
      return null;
    }
    // Recorded before the URLs exist: whatever deletes the job's files must know how long they can write.
    this.dispatch.output_urls_expire_ms = Math.max(this.dispatch.output_urls_expire_ms ?? 0, exp * 1000);
    await this.persist();
    const secret = await callbackSecret(this.config.signingSecret, s.core.id, attempt);
    const { publicBaseUrl: base, signingSecret } = this.config;
    const get = async (img: { key: string; content_type: string; sha256: string; bytes: number }) => ({
      url: await signFileUrl(base, signingSecret, { method: "GET", key: img.key, expiresAt: exp }),
      content_type: img.content_type,
      sha256: img.sha256,
      bytes: img.bytes,
    });
    const input = s.core.input;
    const fmt = input.output_format;
    const kp = input.keypoints;
    const keypoints =
      kp.type === "pose_image" || kp.type === "keypoint_image" ? { type: kp.type, image: await get(s.inputs.keypoint_image!) } : kp;
    const put = (key: string, contentType: string) =>
      signFileUrl(base, signingSecret, { method: "PUT", key, expiresAt: exp, maxBytes: MAX_OUTPUT_BYTES, contentType });
    const request: GpuJobRequest = {
      protocol: PROTOCOL_VERSION,
      job_id: s.core.id,
      attempt,
      model: s.core.model,
      bundle_version: s.core.bundle_version,
      spec: {
        prompt: input.prompt,
        negative_prompt: input.negative_prompt,
        reference_images: await Promise.all(s.inputs.reference.map(get)),
        keypoints,
        ...(input.face_index !== undefined ? { face_index: input.face_index } : {}),
        identity_strength: input.identity_strength,
        structure_strength: input.structure_strength,
        id_mode: input.id_mode,
        id_noise: input.id_noise,
        steps: input.steps,
        guidance: input.guidance,
        sampler: input.sampler,
        seed: s.core.seed,
        width: input.width,
        height: input.height,
        num_outputs: input.num_outputs,
        output_format: fmt,
        output_quality: input.output_quality,
        // Jobs stored before provenance existed are labelled by the default.
        provenance: input.provenance ?? DEFAULT_GPU_PROVENANCE,
        ...(await resolvedControlInputs(input, s.inputs, get)),
      },
      outputs: await Promise.all(
        Array.from({ length: input.num_outputs }, async (_, index) => ({
          index,
          content_type: OUTPUT_CONTENT_TYPES[fmt],
          max_bytes: MAX_OUTPUT_BYTES,
          put_url: await put(r2Keys.output(s.owner_id, s.core.id, attempt, index, EXTENSION_BY_FORMAT[fmt]), OUTPUT_CONTENT_TYPES[fmt]),
        })),
      ),
      intermediates: await Promise.all(
        input.return_intermediates.map(async (kind) => ({
          kind,
          content_type: "image/png",
          max_bytes: MAX_OUTPUT_BYTES,
          put_url: await put(r2Keys.intermediate(s.owner_id, s.core.id, attempt, kind), "image/png"),
        })),
      ),
      callback: { url: `${base}/internal/gpu/jobs/${s.core.id}/callbacks`, secret },
      deadline_at: s.core.deadline_at,
      progress_previews: wantsPreviews(s),
    };
    return { request, requestId: s.request_id ?? null };
  }

  /** The GPU function accepted the job: start the lease clock. */
  async markDispatched(attempt: number, pool: string): Promise<void> {
    const s = this.stored;
    if (!s || !this.dispatch || s.core.status !== "queued" || s.core.attempt !== attempt) return;
    this.dispatch.pool = pool;
    this.dispatch.lease_until_ms = Date.now() + this.config.leaseMs;
    await this.update({ substatus: "dispatched" });
    await this.scheduleAlarm();
  }

  async markWaitingForCapacity(attempt: number): Promise<void> {
    const s = this.stored;
    if (!s || s.core.status !== "queued" || s.core.attempt !== attempt || s.core.substatus === "waiting_for_capacity") return;
    await this.update({ substatus: "waiting_for_capacity" });
  }

  async failDispatch(attempt: number, error: JobError): Promise<void> {
    const s = this.stored;
    if (!s || isTerminal(s.core.status) || s.core.attempt !== attempt) return;
    await this.finish("failed", error);
  }

  // ---- callbacks from the GPU function ------------------------------------

  /**
   * A callback whose signature the worker has checked (routes/internal.ts). Every
   * refusal tells the GPU function to stop; so does any answer once the job is over.
   */
  async callback(attempt: number, rawBody: string): Promise<CallbackOutcome> {
    const s = this.stored;
    if (!s) return { status: 404, answer: { ok: false, cancel: true }, code: "not_found", detail: "the job no longer exists" };
    // Only the edge can sign for an attempt it never dispatched; refused all the same.
    if (attempt > s.core.attempt)
      return {
        status: 403,
        answer: { ok: false, cancel: true },
        code: "signature_invalid",
        detail: "the callback's signature is not valid",
      };
    let parsed: GpuCallback;
    try {
      const r = GpuCallback.safeParse(JSON.parse(rawBody));
      if (!r.success || r.data.attempt !== attempt) throw new Error(r.success ? "attempt mismatch" : r.error.message);
      parsed = r.data;
    } catch (e) {
      return { status: 400, answer: { ok: false, cancel: false }, code: "invalid_request", detail: `bad callback body: ${String(e)}` };
    }
    if (s.core.attempt !== attempt) {
      return {
        status: 409,
        answer: { ok: false, cancel: true, ignored: true },
        code: "stale_attempt",
        detail: "this attempt was superseded",
      };
    }
    const mismatch = parsed.type === "succeeded" ? successReportMismatch(s, parsed) : null;
    if (mismatch)
      return {
        status: 400,
        answer: { ok: false, cancel: false },
        code: "invalid_request",
        detail: `the success report does not fit the job: ${mismatch}`,
      };
    if (isTerminal(s.core.status)) {
      // Repeated or late callbacks change nothing, and whatever still runs stops: the job is over.
      return { status: 200, answer: { ok: true, cancel: true, ignored: true } };
    }
    await this.applyCallback(parsed);
    const now = this.stored!.core.status;
    return { status: 200, answer: { ok: true, cancel: now === "canceled" || now === "aborted" } };
  }

  private async applyCallback(cb: GpuCallback): Promise<void> {
    const d = this.dispatch!;
    d.lease_until_ms = Date.now() + this.config.leaseMs;
    switch (cb.type) {
      case "started":
        if (this.stored!.core.status === "queued") await this.start();
        else await this.persist();
        break;
      case "progress": {
        if (this.stored!.core.status === "queued") await this.start();
        const p = cb.progress;
        const fresh = p.stage !== d.last_stage || p.step > d.last_step;
        if (!fresh) {
          await this.persist();
          break;
        }
        d.last_stage = p.stage;
        d.last_step = p.step;
        await this.update({
          progress: p,
          substatus: p.stage === "uploading" ? "uploading" : p.stage === "denoising" ? "generating" : "preparing",
        });
        await this.appendEvent(
          "job.progress",
          { progress: p },
          cb.preview && wantsPreviews(this.stored!) ? { preview: cb.preview } : undefined,
        );
        break;
      }
      case "succeeded":
        await this.succeed(cb);
        break;
      case "failed":
        if (cb.faces) await this.update({ faces: cb.faces });
        if (cb.error.code === "worker_shutdown" && (this.dispatch!.handbacks ?? 0) < MAX_HANDBACKS) {
          // A GPU function that drains for a deploy or scale-down hands the job back:
          // not the job's fault, so it does not use up one of its attempts.
          this.dispatch!.handbacks = (this.dispatch!.handbacks ?? 0) + 1;
          await this.retry(cb.error);
        } else if (cb.error.retryable && this.attemptsUsed() < this.config.maxAttempts) await this.retry(cb.error);
        else await this.finish("failed", cb.error, cb.timings?.stages_ms);
        break;
    }
    await this.scheduleAlarm();
  }

  /**
   * The GPU slot this job held is free again (it finished, failed over or was canceled):
   * the pool monitor hands it at once to the job of the model that has waited longest,
   * instead of leaving the GPU idle until that job's backoff runs out.
   */
  private freeGpuSlot(): void {
    if (!this.dispatch?.pool) return;
    const model = this.stored!.core.model;
    this.ctx.waitUntil(
      poolMonitor(this.env)
        .capacityFreed(model)
        .catch((e: unknown) => log("warn", "could not wake a waiting job", { model, error: String(e) })),
    );
  }

  /** Attempts that count against MAX_ATTEMPTS: hand-backs from draining GPU functions do not. */
  private attemptsUsed(): number {
    return this.stored!.core.attempt - (this.dispatch?.handbacks ?? 0);
  }

  private async start(): Promise<void> {
    const now = new Date().toISOString();
    const created = Date.parse(this.stored!.core.created_at);
    await this.update({
      status: "running",
      substatus: "preparing",
      started_at: now,
      metrics: { ...this.stored!.core.metrics, queue_ms: Date.parse(now) - created },
    });
    await this.appendEvent("job.started", { attempt: this.stored!.core.attempt });
  }

  private async succeed(cb: Extract<GpuCallback, { type: "succeeded" }>): Promise<void> {
    const s = this.stored!;
    const attempt = s.core.attempt;
    const fmt = s.core.input.output_format;
    // Trust but verify: every reported output must be in R2 at its attempt's key with the
    // reported size, and every reported intermediate at its key.
    const outputs = cb.outputs.map((o) => ({
      ...o,
      key: r2Keys.output(s.owner_id, s.core.id, attempt, o.index, EXTENSION_BY_FORMAT[fmt]),
    }));
    const intermediates = cb.intermediates.map((i) => ({ ...i, key: r2Keys.intermediate(s.owner_id, s.core.id, attempt, i.kind) }));
    const missing = [
      ...(await Promise.all(outputs.map(async (o) => ((await this.env.FILES.head(o.key))?.size === o.bytes ? null : `output ${o.index}`)))),
      ...(await Promise.all(intermediates.map(async (i) => ((await this.env.FILES.head(i.key)) ? null : `intermediate ${i.kind}`)))),
    ].filter((m): m is string => m !== null);
    if (missing.length) {
      const error = { code: "output_upload_failed", message: `${missing.join(", ")} not uploaded`, retryable: true } as const;
      // The same rule as every other retry: hand-backs from draining GPU functions do not count.
      if (this.attemptsUsed() < this.config.maxAttempts) return this.retry(error);
      return this.finish("failed", error);
    }
    s.outputs = outputs;
    s.intermediates = intermediates;
    s.core.faces = cb.faces;
    s.core.chosen_face = cb.chosen_face;
    s.core.provenance = cb.provenance ?? null;
    if (s.core.status === "queued") await this.start();
    await this.finish("succeeded", null, cb.timings.stages_ms, cb.timings.run_ms);
    if (s.cache_key) await cacheResult(this.env, s.cache_key, s.core.id);
  }

  private async retry(error: JobError): Promise<void> {
    const s = this.stored!;
    this.freeGpuSlot();
    const next = s.core.attempt + 1;
    this.dispatch!.lease_until_ms = null;
    this.dispatch!.queued_since_ms = Date.now();
    this.dispatch!.last_step = -1;
    this.dispatch!.last_stage = null;
    await this.update({ status: "queued", substatus: "retrying", attempt: next, progress: null });
    await this.appendEvent("job.retrying", { attempt: next, reason: error });
    await this.env.DISPATCH_QUEUE.send({ job_id: s.core.id, attempt: next });
  }

  // ---- cancel, delete, alarms ----------------------------------------------

  async cancel(): Promise<{ ok: boolean; stored: StoredJob | null }> {
    const s = this.stored;
    if (!s) return { ok: false, stored: null };
    if (isTerminal(s.core.status)) return { ok: false, stored: s };
    const pool = this.dispatch?.pool;
    await this.finish("canceled", null);
    if (pool) this.ctx.waitUntil(this.tellPoolToCancel(pool, s.core.id));
    return { ok: true, stored: this.stored };
  }

  /**
   * Purges inputs, outputs and events; the job disappears from listings. While output
   * PUT URLs handed to a GPU function are still valid, a tombstone keeps the job's
   * prefix, and the alarm sweeps it once more after they expire: a write that raced
   * the delete is removed too.
   */
  async purge(): Promise<void> {
    const s = this.stored;
    if (!s) return;
    if (!isTerminal(s.core.status)) await this.cancel();
    const sweepAt = outputSweepAt(this.dispatch?.output_urls_expire_ms, Date.now());
    await this.deleteObjects();
    this.stored = null; // a mirror write still running writes nothing more
    await this.mirrorDone;
    await jobIndexWriter(this.env).remove(s.core.id);
    await this.streams.closeAll();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.dispatch = null;
    if (sweepAt !== null) {
      this.tombstone = { prefix: r2Keys.jobPrefix(s.owner_id, s.core.id), sweep_at_ms: sweepAt };
      this.createTables();
      this.sql.exec(`INSERT OR REPLACE INTO state (name, value) VALUES ('tombstone', ?)`, JSON.stringify(this.tombstone));
      await this.ctx.storage.setAlarm(sweepAt);
    }
  }

  /** The last sweep of a deleted job's prefix, once its URLs have expired; then the object holds nothing at all. */
  private async sweepTombstone(tombstone: Tombstone): Promise<void> {
    if (Date.now() < tombstone.sweep_at_ms) return this.ctx.storage.setAlarm(tombstone.sweep_at_ms);
    await this.deletePrefix(tombstone.prefix);
    this.tombstone = null;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  override async alarm(): Promise<void> {
    const s = this.stored;
    if (!s && this.tombstone) return this.sweepTombstone(this.tombstone);
    if (!s || !this.dispatch) return;
    if (this.sql.exec(`SELECT 1 FROM state WHERE name = 'mirror_dirty'`).toArray().length) await this.flushMirror();
    const now = Date.now();
    switch (dueAction(jobClock(s, this.dispatch), now)) {
      case "deadline": {
        const error = { code: "deadline_exceeded", message: "the job's deadline passed", retryable: false } as const;
        const pool = this.dispatch.pool;
        await this.finish(s.core.status === "queued" && !s.core.started_at ? "aborted" : "failed", error);
        if (pool) this.ctx.waitUntil(this.tellPoolToCancel(pool, s.core.id));
        break;
      }
      case "queued_too_long":
        await this.finish("failed", { code: "no_capacity", message: "no GPU function took the job in time", retryable: true });
        break;
      case "resend_dispatch":
        log("warn", "dispatch message re-sent: none seen for a while", {
          job_id: s.core.id,
          request_id: s.request_id ?? null,
          attempt: s.core.attempt,
        });
        this.dispatch.last_try_ms = now;
        await this.persist();
        await this.env.DISPATCH_QUEUE.send({ job_id: s.core.id, attempt: s.core.attempt });
        break;
      case "lease_expired": {
        const error = { code: "worker_lost", message: "the GPU function stopped reporting", retryable: true } as const;
        if (this.attemptsUsed() < this.config.maxAttempts) await this.retry(error);
        else
          await this.finish("failed", {
            ...error,
            message: `the GPU function stopped reporting on all ${this.attemptsUsed()} attempts`,
            retryable: false,
          });
        break;
      }
      case "retention_ended":
        this.dispatch.output_sweep_at_ms = outputSweepAt(this.dispatch.output_urls_expire_ms, now);
        await this.deleteObjects();
        await this.update({ data_removed: true });
        break;
      case "sweep_outputs":
        await this.deletePrefix(r2Keys.jobPrefix(s.owner_id, s.core.id));
        this.dispatch.output_sweep_at_ms = null;
        await this.persist();
        break;
      case "none":
        break;
    }
    await this.scheduleAlarm();
  }

  // ---- Server-Sent Events ----------------------------------------------------

  /** GET /v1/jobs/{id}/events lands here: the events after `?after=`, then live ones while the job runs. */
  override async fetch(request: Request): Promise<Response> {
    const after = Number(new URL(request.url).searchParams.get("after") ?? "0") || 0;
    const rows = this.sql.exec<{ sequence: number; type: string; at: string; data: string }>(
      `SELECT sequence, type, at, data FROM events WHERE sequence > ? ORDER BY sequence`,
      after,
    );
    const missed = [...rows].map((r) => ({ sequence: r.sequence, type: r.type, at: r.at, data: JSON.parse(r.data) as unknown }));
    return this.streams.open(missed, this.stored !== null && !isTerminal(this.stored.core.status));
  }

  // ---- internals -----------------------------------------------------------

  private async finish(status: JobStatus, error: JobError | null, stagesMs?: Record<string, number>, runMs?: number): Promise<void> {
    const s = this.stored!;
    const now = new Date();
    const started = s.core.started_at ? Date.parse(s.core.started_at) : null;
    this.dispatch!.lease_until_ms = null;
    await this.update({
      status,
      substatus: null,
      error,
      completed_at: now.toISOString(),
      expires_at: new Date(now.getTime() + s.core.retention_seconds * 1000).toISOString(),
      metrics: {
        queue_ms: s.core.metrics.queue_ms,
        run_ms: runMs ?? (started !== null ? now.getTime() - started : null),
        total_ms: now.getTime() - Date.parse(s.core.created_at),
        ...(stagesMs ? { stages_ms: stagesMs } : {}),
      },
    });
    await this.appendEvent(`job.${status}` as JobEventType, { status, ...(error ? { error } : {}) });
    await this.onTerminal();
  }

  private async onTerminal(): Promise<void> {
    const s = this.stored!;
    this.freeGpuSlot();
    await this.env.KEY_GUARDS.get(this.env.KEY_GUARDS.idFromName(s.key_id)).releaseSlot(s.core.id);
    void this.streams.closeAll();
  }

  private async update(patch: Partial<StoredJob["core"]>): Promise<void> {
    const s = this.stored!;
    const before = s.core.status;
    const listed = (patch.status !== undefined && patch.status !== before) || patch.data_removed !== undefined;
    s.core = { ...s.core, ...patch, updated_at: monotonicNow(s.core.updated_at) };
    await this.persist();
    // D1 serves listings, which filter on status: progress and substatus changes (every
    // step of every job) would cost a D1 write each and are read live from this object.
    if (listed) this.mirror();
    if (patch.status !== undefined && patch.status !== before) {
      const c = s.core;
      log(c.status === "failed" ? "warn" : "info", "job status changed", {
        job_id: c.id,
        request_id: s.request_id ?? null,
        owner_id: s.owner_id,
        from: before,
        status: c.status,
        attempt: c.attempt,
        ...(c.error ? { error_code: c.error.code } : {}),
        ...(isTerminal(c.status) ? { queue_ms: c.metrics.queue_ms, run_ms: c.metrics.run_ms, total_ms: c.metrics.total_ms } : {}),
      });
    }
  }

  /**
   * Copies the job into D1, which only serves listings. This object's storage is the
   * source of truth and is written before any call returns; the copy follows right
   * after through the index writer (batched with other jobs' rows), coalescing bursts
   * into one write, and is retried from the alarm if D1 fails.
   */
  private mirrorState: "idle" | "writing" | "again" = "idle";
  private mirrorDone: Promise<void> = Promise.resolve();
  private mirror(): void {
    if (this.mirrorState !== "idle") {
      this.mirrorState = "again";
      return;
    }
    this.mirrorState = "writing";
    this.mirrorDone = this.flushMirror();
    this.ctx.waitUntil(this.mirrorDone);
  }

  private async flushMirror(): Promise<void> {
    try {
      do {
        this.mirrorState = "writing";
        if (this.stored) await jobIndexWriter(this.env).upsert(this.stored);
      } while ((this.mirrorState as string) === "again");
      this.sql.exec(`DELETE FROM state WHERE name = 'mirror_dirty'`);
    } catch (e) {
      this.sql.exec(`INSERT OR REPLACE INTO state (name, value) VALUES ('mirror_dirty', '1')`);
      await this.ctx.storage.setAlarm(Date.now() + 1000);
      log("error", "job index write to D1 failed; retrying", { job_id: this.stored?.core.id, error: String(e) });
    } finally {
      this.mirrorState = "idle";
    }
  }

  private async persist(): Promise<void> {
    this.sql.exec(`INSERT OR REPLACE INTO state (name, value) VALUES ('stored', ?)`, JSON.stringify(this.stored));
    this.sql.exec(`INSERT OR REPLACE INTO state (name, value) VALUES ('dispatch', ?)`, JSON.stringify(this.dispatch));
  }

  private async appendEvent(type: JobEventType, data: Record<string, unknown>, liveOnly?: Record<string, unknown>): Promise<void> {
    const s = this.stored!;
    const at = new Date().toISOString();
    const seq = (this.sql.exec<{ n: number | null }>(`SELECT MAX(sequence) AS n FROM events`).one().n ?? 0) + 1;
    this.sql.exec(`INSERT INTO events (sequence, type, at, data) VALUES (?, ?, ?, ?)`, seq, type, at, JSON.stringify(data));
    this.streams.broadcast({ sequence: seq, type, at, data: { ...data, ...liveOnly } });
    const hook = s.core.webhook;
    if (hook && (hook.events as string[]).includes(type)) {
      await enqueueWebhook(this.env, { ownerId: s.owner_id, jobId: s.core.id, type, sequence: seq, url: hook.url });
    }
  }

  private async scheduleAlarm(): Promise<void> {
    if (!this.stored || !this.dispatch) return;
    const at = nextAlarmAt(jobClock(this.stored, this.dispatch));
    if (at !== null) await this.ctx.storage.setAlarm(at);
    else await this.ctx.storage.deleteAlarm();
  }

  private async deleteObjects(): Promise<void> {
    const s = this.stored!;
    const inputs = storedInputImages(s.inputs).map((i) => i.key);
    await releaseBlobs(this.env, s.owner_id, s.core.id, inputs);
    await this.deletePrefix(r2Keys.jobPrefix(s.owner_id, s.core.id));
  }

  private async deletePrefix(prefix: string): Promise<void> {
    let cursor: string | undefined;
    do {
      const page = await this.env.FILES.list({ prefix, ...(cursor ? { cursor } : {}) });
      if (page.objects.length) await this.env.FILES.delete(page.objects.map((o) => o.key));
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }

  private async tellPoolToCancel(pool: string, jobId: string): Promise<void> {
    try {
      await fetchPool(`${pool}/v1/jobs/${jobId}/cancel`, {
        method: "POST",
        headers: { authorization: `Bearer ${this.config.dispatchToken}` },
        signal: AbortSignal.timeout(5000),
      });
    } catch {
      // The GPU also learns of the cancel from its next callback's answer.
    }
  }
}

/** updated_at never goes backwards or repeats, so `updated_after` paging misses nothing. */
function monotonicNow(previous: string): string {
  const now = Date.now();
  const prev = Date.parse(previous);
  return new Date(now > prev ? now : prev + 1).toISOString();
}
