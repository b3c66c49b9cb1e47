import type { ErrorCode, JobError } from "@ecomid/shared/api";
import { ImageError } from "../runtime/image.js";

export interface JobFailureOptions {
  /** Whether another attempt may succeed (default false: the input itself is the problem). */
  retryable?: boolean;
  /** What the user can do about it; reported beside the message, never inside it. */
  hint?: string;
}

/**
 * A job that cannot finish, as the edge and the client will see it: the stable code,
 * what happened (`message`) and what to do (`hint`) are separate fields, so nothing
 * downstream has to read them out of a sentence.
 */
export class JobFailure extends Error {
  override readonly name: string = "JobFailure";
  readonly retryable: boolean;
  readonly hint: string | undefined;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options: JobFailureOptions = {},
  ) {
    super(message);
    this.retryable = options.retryable ?? false;
    this.hint = options.hint;
  }
}

export class JobCanceled extends Error {
  override readonly name = "JobCanceled";
}

/** The job error the edge and the client see for whatever a stage threw; anything unforeseen is a retryable internal_error. */
export function toJobError(e: unknown): JobError {
  if (e instanceof JobFailure) return { code: e.code, message: e.message, retryable: e.retryable, ...(e.hint ? { hint: e.hint } : {}) };
  if (e instanceof ImageError) return { code: e.code, message: e.message, retryable: false };
  return { code: "internal_error", message: e instanceof Error ? e.message : String(e), retryable: true };
}
