import { ERROR_ADVICE, type ErrorCode } from "@ecomid/shared/api";
import { EcomidApiError } from "@ecomid/shared/sdk";

/** One line for an API refusal: code, what the API said, what to do, and the ids support will ask for. */
export function describeApiError(e: EcomidApiError): string {
  const advice =
    e.code === "unexpected_response" ? "Check --base-url: that address did not answer like the EcomID API." : ERROR_ADVICE[e.code];
  // The detail often already reads "pointer: message"; list only the field errors it leaves out.
  const extra = e.errors.map((f) => `${f.pointer}: ${f.message}`).filter((text) => !e.detail.includes(text));
  const fields = extra.length > 0 ? ` [${extra.join("; ")}]` : "";
  const retry = e.retryAfter !== null ? ` (retry after ${e.retryAfter} s)` : "";
  const id = e.requestId ? ` (request ${e.requestId})` : "";
  return `error ${e.code}: ${e.detail}${fields}${retry}. ${advice}${id}`;
}

/** One line for a job that ended badly. */
export function describeJobFailure(job: {
  id: string;
  status: string;
  error: { code: ErrorCode; message: string; hint?: string | undefined } | null;
}): string {
  if (!job.error) return `job ${job.id} ended ${job.status}.`;
  const advice = job.error.hint ?? ERROR_ADVICE[job.error.code];
  return `job ${job.id} ${job.status}: ${job.error.code}: ${job.error.message}. ${advice}`;
}
