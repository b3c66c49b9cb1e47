import { z } from "zod";
import { JobError } from "../errors.js";
import { Metadata, ResolvedJobInput, WebhookSubscription } from "./job-input.js";
import { JobProvenance } from "./provenance.js";

export const JobStatus = z
  .enum(["queued", "running", "succeeded", "failed", "canceled", "aborted"])
  .meta({ id: "JobStatus", description: "aborted: the deadline passed before a GPU started the job; never billed." });
export type JobStatus = z.infer<typeof JobStatus>;
export const TERMINAL_STATUSES: readonly JobStatus[] = ["succeeded", "failed", "canceled", "aborted"];
export const isTerminal = (s: JobStatus) => TERMINAL_STATUSES.includes(s);

export const JobSubstatus = z
  .enum(["waiting_for_capacity", "dispatched", "retrying", "preparing", "generating", "uploading"])
  .meta({ id: "JobSubstatus" });

export const Progress = z
  .object({ stage: z.string(), step: z.number().int().min(0), total_steps: z.number().int().min(0) })
  .meta({ id: "Progress" });

export const FaceDetection = z
  .object({
    box: z.tuple([z.number(), z.number(), z.number(), z.number()]),
    score: z.number(),
    keypoints: z.array(z.tuple([z.number(), z.number()])).length(5),
  })
  .meta({ id: "FaceDetection" });
export type FaceDetection = z.infer<typeof FaceDetection>;

export const JobOutput = z
  .object({
    index: z.number().int(),
    url: z.string().describe("freshly signed on every read"),
    url_expires_at: z.iso.datetime(),
    content_type: z.string(),
    width: z.number().int(),
    height: z.number().int(),
    bytes: z.number().int(),
    sha256: z.string(),
    seed: z.number().int(),
    identity_similarity: z.number().nullable().describe("ArcFace cosine to the reference; null when no face was found"),
  })
  .meta({ id: "JobOutput" });

export const JobIntermediate = z
  .object({ kind: z.string(), url: z.string(), url_expires_at: z.iso.datetime(), content_type: z.string() })
  .meta({ id: "JobIntermediate" });

export const JobMetrics = z
  .object({
    queue_ms: z.number().nullable(),
    run_ms: z.number().nullable(),
    total_ms: z.number().nullable(),
    stages_ms: z.record(z.string(), z.number()).optional(),
  })
  .meta({ id: "JobMetrics" });

export const Job = z
  .object({
    id: z.string().meta({ example: "job_01jdv5x0f3q2c7e9r6m4w8k1zt" }),
    object: z.literal("job"),
    model: z.string(),
    bundle_version: z.string(),
    status: JobStatus,
    substatus: JobSubstatus.nullable(),
    cached: z.boolean().describe("true when the outputs came from an earlier identical job, without a GPU"),
    attempt: z.number().int(),
    input: ResolvedJobInput,
    seed: z.number().int(),
    metadata: Metadata,
    webhook: WebhookSubscription.nullable(),
    progress: Progress.nullable(),
    faces: z.array(FaceDetection).nullable().describe("every face found in the first reference; chosen_face indexes it"),
    chosen_face: z.number().int().nullable(),
    output: z.array(JobOutput),
    intermediates: z.array(JobIntermediate),
    error: JobError.nullable(),
    provenance: JobProvenance.nullable().describe(
      "what every output carries, as the GPU function reported it; null until the job succeeds, and on a job run by a GPU function too old to report it",
    ),
    metrics: JobMetrics,
    data_removed: z.boolean().describe("true once inputs and outputs were purged at the end of retention"),
    retention_seconds: z.number().int(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    started_at: z.iso.datetime().nullable(),
    completed_at: z.iso.datetime().nullable(),
    deadline_at: z.iso.datetime().nullable(),
    expires_at: z.iso.datetime().nullable(),
  })
  .meta({ id: "Job" });
export type Job = z.infer<typeof Job>;

export const JobList = z
  .object({ object: z.literal("list"), data: z.array(Job), has_more: z.boolean(), next_cursor: z.string().nullable() })
  .meta({ id: "JobList" });

export const ListJobsQuery = z.object({
  status: JobStatus.optional(),
  model: z.string().max(100).optional(),
  updated_after: z.iso.datetime().optional().describe("only jobs changed after this instant: reconcile missed webhooks"),
  created_after: z.iso.datetime().optional(),
  cursor: z
    .string()
    .regex(/^\d{1,15}\.job_[0-9a-z]{26}$/, "a next_cursor this API gave out")
    .optional()
    .describe("next_cursor of the previous page: the position (a time in ms and a job id) the page goes on from"),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const JobEventType = z
  .enum(["job.queued", "job.started", "job.progress", "job.succeeded", "job.failed", "job.canceled", "job.aborted", "job.retrying"])
  .meta({ id: "JobEventType" });
export type JobEventType = z.infer<typeof JobEventType>;

export const JobEvent = z
  .object({
    sequence: z.number().int().min(1),
    type: JobEventType,
    at: z.iso.datetime(),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: "JobEvent" });
export type JobEvent = z.infer<typeof JobEvent>;
