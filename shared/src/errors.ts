import { z } from "zod";
import { ModelCapabilities } from "./api/models.js";

/**
 * Every refusal and every failed job carries one of these codes. They are part
 * of the public contract: add new ones, never rename or reuse old ones.
 */
export const ErrorCode = z
  .enum([
    // request problems (4xx)
    "invalid_request",
    "invalid_json",
    "invalid_multipart",
    "unsupported_media_type",
    "payload_too_large",
    "unauthorized",
    "forbidden",
    "key_revoked",
    "not_found",
    "method_not_allowed",
    "rate_limited",
    "too_many_jobs_in_flight",
    "idempotency_in_progress",
    "idempotency_key_reused",
    "output_exists",
    "job_not_cancelable",
    "upload_not_ready",
    "upload_already_complete",
    "upload_expired",
    "unsupported_image_format",
    "image_too_large",
    "image_undecodable",
    "url_not_allowed",
    "input_fetch_failed",
    "model_not_found",
    "parameter_out_of_range",
    "signature_invalid",
    "signature_expired",
    "stale_attempt",
    "output_not_available",
    "capability_not_supported",
    "mask_size_mismatch",
    "mask_missing_alpha",
    // job failures (reported on the job and in webhooks)
    "face_not_detected",
    "face_index_out_of_range",
    "pose_face_not_detected",
    "mask_empty",
    "mask_full",
    "provenance_unavailable",
    "deadline_exceeded",
    "worker_lost",
    "worker_crashed",
    "worker_shutdown",
    "no_capacity",
    "dispatch_rejected",
    "output_upload_failed",
    "internal_error",
    // the service (5xx)
    "temporarily_unavailable",
  ])
  .meta({ id: "ErrorCode", description: "Stable machine-readable error code." });
export type ErrorCode = z.infer<typeof ErrorCode>;

export const FieldError = z
  .object({
    pointer: z.string().meta({ description: "JSON Pointer (RFC 6901) to the offending field", example: "/input/steps" }),
    code: z.string(),
    message: z.string(),
  })
  .meta({ id: "FieldError" });

/** RFC 9457 problem details, extended with a stable code and the request id. */
export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: ErrorCode,
    request_id: z.string(),
    hint: z.string().optional().meta({ description: "what the client can do about it, where the API can say" }),
    errors: z.array(FieldError).optional(),
    capabilities: ModelCapabilities.optional().meta({
      description: "with capability_not_supported: what the model asked for offers (as GET /v1/models lists it)",
    }),
  })
  .meta({ id: "Problem" });
export type Problem = z.infer<typeof Problem>;

/** A job's failure, as stored on the job and sent in webhooks. */
export const JobError = z
  .object({
    code: ErrorCode,
    message: z.string(),
    retryable: z.boolean(),
    hint: z.string().optional(),
  })
  .meta({ id: "JobError" });
export type JobError = z.infer<typeof JobError>;
