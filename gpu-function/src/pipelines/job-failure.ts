import type { ErrorCode, JobError } from "@ecomid/shared/api";
import { FaceNotDetectedError } from "../models/face-analysis.js";
import { PromptTooLongError } from "../models/tokenizer.js";
import { ImageError } from "../runtime/image.js";

/** A job that cannot finish, with the stable code the edge reports. */
export class JobFailure extends Error {
  override readonly name = "JobFailure";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable = false,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export class JobCanceled extends Error {
  override readonly name = "JobCanceled";
}

/** Maps whatever a stage threw to the job error the edge and the client see. */
export function toJobError(e: unknown): JobError {
  if (e instanceof JobFailure) return { code: e.code, message: e.message, retryable: e.retryable, ...(e.hint ? { hint: e.hint } : {}) };
  if (e instanceof FaceNotDetectedError) {
    const outOfRange = /face_index/.test(e.message);
    return { code: outOfRange ? "face_index_out_of_range" : "face_not_detected", message: e.message.split(". ")[0]!, retryable: false, hint: e.hint };
  }
  if (e instanceof ImageError) return { code: e.code, message: e.message, retryable: false };
  if (e instanceof PromptTooLongError) return { code: e.code, message: e.message, retryable: false, hint: "shorten the prompt to at most 75 CLIP tokens" };
  return { code: "internal_error", message: e instanceof Error ? e.message : String(e), retryable: true };
}
