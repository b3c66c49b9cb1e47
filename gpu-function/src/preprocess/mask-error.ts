import { ERROR_ADVICE } from "@ecomid/shared/api";
import { JobFailure } from "../pipelines/job-failure.js";

export type MaskErrorCode = "mask_size_mismatch" | "mask_missing_alpha" | "mask_empty" | "mask_full";

/** An inpaint mask the job cannot use; the hint is the code's advice, as for a missing face. */
export class MaskError extends JobFailure {
  override readonly name = "MaskError";
  constructor(code: MaskErrorCode, message: string) {
    super(code, message, { hint: ERROR_ADVICE[code] });
  }
}
