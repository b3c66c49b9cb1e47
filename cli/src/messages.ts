import type { ErrorCode } from "@ecomid/shared/api";
import { EcomidApiError } from "@ecomid/shared/sdk";

/**
 * One sentence of advice per error code. Typed as a full Record so that a code
 * added to shared/src/errors.ts fails the typecheck until it has advice here.
 */
export const ADVICE: Record<ErrorCode, string> = {
  invalid_request: "Check the option named in the message and its allowed range (see GET /v1/models for the model's limits).",
  invalid_json: "The request body was not valid JSON; this is a CLI bug if you see it, please report it.",
  invalid_multipart: "The upload was malformed; check that every image path is a readable file.",
  unsupported_media_type: "The API expects JSON or multipart/form-data; this is a CLI bug if you see it.",
  payload_too_large: "The request is too large: use smaller images (at most 15 MB each, 4 references).",
  unauthorized: "Pass a valid key with --api-key or ECOMID_API_KEY (npm start writes one to .state/dev-key.txt).",
  forbidden: "This key lacks the scope needed (jobs:read, jobs:write or admin); create one with the right --scopes.",
  key_revoked: "This API key was revoked; create a new one with `ecomid keys create`.",
  not_found: "No such job, upload or key for this API key; check the id (jobs of other keys' owners are invisible).",
  method_not_allowed: "The API does not support this call; check --base-url points at an EcomID API.",
  rate_limited: "Too many requests for this key; wait for the Retry-After time and try again.",
  too_many_jobs_in_flight: "This key already has the maximum number of unfinished jobs; wait for some to finish or cancel them.",
  idempotency_in_progress: "A request with this --idempotency-key is still running; wait a moment and retry.",
  idempotency_key_reused: "This --idempotency-key was used with different parameters; use a new key for a new request.",
  output_exists: "That output was already stored with other bytes; signed output URLs write once.",
  job_not_cancelable: "The job has already finished, so there is nothing to cancel.",
  upload_not_ready: "The upload has not been completed yet; PUT the file to its upload_url first.",
  upload_already_complete: "That upload already holds another image; an upload takes one file, so create a new upload for it.",
  upload_expired: "The upload expired; upload the image again.",
  unsupported_image_format: "Images must be JPEG, PNG or WebP.",
  image_too_large: "The image is too large: at most 15 MB and 40 megapixels.",
  image_undecodable: "The image file is corrupt or not really an image; re-export it as PNG or JPEG.",
  url_not_allowed: "Image and webhook URLs must be https to a public host (plain http only to loopback when the server allows it).",
  input_fetch_failed: "The API could not download an image URL; check it is public and reachable, or pass a local file.",
  model_not_found: "No such model; list them with `curl $ECOMID_BASE_URL/v1/models` and pass --model.",
  parameter_out_of_range: "A parameter is outside this model's limits (size multiple, steps, sampler); see GET /v1/models.",
  signature_invalid: "A signed URL or signature did not verify; request a fresh URL.",
  signature_expired: "A signed URL expired; request a fresh one (GET the job again).",
  stale_attempt: "An internal callback from a superseded attempt was refused; nothing to do.",
  output_not_available: "The job's outputs were purged at the end of its retention; run it again.",
  face_not_detected: "No face was found in the reference image; use a clear, front-facing photo of one person.",
  face_index_out_of_range: "--face-index is larger than the number of faces found; omit it to use the largest face.",
  pose_face_not_detected: "No face was found in the pose image; use another pose image, or --keypoints instead.",
  deadline_exceeded: "The job did not finish before its deadline; raise deadline_seconds or try when the service is less busy.",
  worker_lost: "The GPU worker stopped responding on every attempt; try again, and report it if it persists.",
  worker_crashed: "The GPU worker crashed; try again, and report it with the job id if it persists.",
  worker_shutdown: "The GPU worker shut down while running the job too many times; try again.",
  no_capacity: "No GPU took the job in time; try again later.",
  dispatch_rejected: "The GPU pool refused the job; try again later, and report it if it persists.",
  output_upload_failed: "The results could not be stored; try again.",
  internal_error: "The API had an internal error; try again, and report it with the request id if it persists.",
  temporarily_unavailable: "The API's storage was briefly unavailable and nothing was changed; send the same request again in a moment.",
};

/** One line for an API refusal: code, what the API said, what to do, and the ids support will ask for. */
export function describeApiError(e: EcomidApiError): string {
  const advice = e.code === "unexpected_response" ? "Check --base-url: that address did not answer like the EcomID API." : ADVICE[e.code];
  // The detail often already reads "pointer: message"; list only the field errors it leaves out.
  const extra = e.errors.map((f) => `${f.pointer}: ${f.message}`).filter((text) => !e.detail.includes(text));
  const fields = extra.length > 0 ? ` [${extra.join("; ")}]` : "";
  const retry = e.retryAfter !== null ? ` (retry after ${e.retryAfter} s)` : "";
  const id = e.requestId ? ` (request ${e.requestId})` : "";
  return `error ${e.code}: ${e.detail}${fields}${retry}. ${advice}${id}`;
}

/** One line for a job that ended badly. */
export function describeJobFailure(job: { id: string; status: string; error: { code: ErrorCode; message: string; hint?: string | undefined } | null }): string {
  if (!job.error) return `job ${job.id} ended ${job.status}.`;
  const advice = job.error.hint ?? ADVICE[job.error.code];
  return `job ${job.id} ${job.status}: ${job.error.code}: ${job.error.message}. ${advice}`;
}
