import type { ErrorCode } from "../errors.js";
import { API_LIMITS } from "./limits.js";

const imageLimits = `at most ${API_LIMITS.maxImageBytes / 2 ** 20} MB and ${API_LIMITS.maxImagePixels / 1e6} megapixels`;

/**
 * What to do about each error code, one or two plain sentences for a person: the CLI prints
 * it after an error, the playground shows it, and the GPU function sends it as a failed
 * job's hint. Worded for any of them (API names, no CLI flags or page controls). A full
 * Record, so a code added to ErrorCode does not compile until it has advice.
 */
export const ERROR_ADVICE: Record<ErrorCode, string> = {
  invalid_request: "Check the field named in the message against its allowed values (GET /v1/models gives each model's limits).",
  invalid_json: "The body was not valid JSON; send the job as JSON, or as multipart with the JSON in a part named request.",
  invalid_multipart:
    "The multipart body was malformed: put the job JSON first, in a part named request, then one file part for each file it names.",
  unsupported_media_type: "Send the body as application/json, or as multipart/form-data for a job with its images inline.",
  payload_too_large: `The request is too large: send smaller images (${imageLimits} each, ${API_LIMITS.maxReferenceImages} references at most).`,
  unauthorized:
    "The API key is missing or not valid; check that this API issued it and that it was copied whole (a local `npm start` writes one to .state/dev-key.txt).",
  forbidden:
    "This key lacks the scope the call needs (jobs:read, jobs:write, admin, or provenance:none for unlabelled outputs); use a key created with that scope.",
  key_revoked: "This API key was revoked; use another key, or create a new one.",
  not_found: "No such job, upload or key for this API key; check the id (jobs of other owners are not visible).",
  method_not_allowed: "The API does not take this method on this path; check that the base URL points at an EcomID API.",
  rate_limited: "Too many requests for this key; wait for the Retry-After time and try again.",
  too_many_jobs_in_flight: "This key already has as many unfinished jobs as it may; wait for some to finish, or cancel some.",
  idempotency_in_progress: "A request with this Idempotency-Key is still running; wait a moment and send it again.",
  idempotency_key_reused: "This Idempotency-Key was used with other parameters; use a new key for a new request.",
  output_exists: "That output was already stored with other bytes; signed output URLs write once.",
  job_not_cancelable: "The job has already finished, so there is nothing to cancel.",
  upload_not_ready: "The upload has not been completed yet; PUT the file to its upload_url first.",
  upload_already_complete: "That upload already holds an image; an upload takes one file, so create a new upload for another image.",
  upload_expired: "The upload expired; upload the image again.",
  unsupported_image_format: "Images must be JPEG, PNG or WebP.",
  image_too_large: `The image is too large: use one of ${imageLimits}.`,
  image_undecodable: "The image file is corrupt or not really an image; export it again as PNG or JPEG.",
  url_not_allowed: "Image and webhook URLs must be https to a public host (plain http only to loopback where the server allows it).",
  input_fetch_failed: "The API could not download an image URL; check that it is public and reachable, or send the file itself.",
  model_not_found: "No such model here; GET /v1/models lists the models on offer.",
  parameter_out_of_range:
    "A setting is outside this model's limits (size multiple, steps, sampler, prompt length); GET /v1/models lists them.",
  signature_invalid: "A signed URL or signature did not verify; request a fresh URL.",
  signature_expired: "A signed URL expired; request a fresh one (GET the job again).",
  stale_attempt: "A callback from a superseded attempt was refused; nothing to do.",
  output_not_available: "The job's outputs were deleted at the end of their retention; run the job again.",
  face_not_detected:
    "No face was found in the photo: the face may be too small or tightly cropped; pad the image so the whole head and some background show, and use a frontal, well-lit photo.",
  face_index_out_of_range:
    "There are fewer faces than the face_index asked for; use a face_index below the number of faces reported, or leave it out for the largest face.",
  capability_not_supported:
    "This model's bundle lacks a ControlNet or edge detector the job asks for; use a model whose capabilities (GET /v1/models) include it, or leave that input out.",
  mask_size_mismatch: "The inpaint mask must have the inpaint image's width and height; export the mask at the image's size.",
  mask_missing_alpha:
    "Taking the mask from alpha needs an image with transparency (a PNG or WebP with an alpha channel; JPEG has none); send a mask instead, or export the cut-out with its transparency.",
  mask_empty:
    "The inpaint mask marks no pixel to generate (white, or transparent with mask_from alpha, is generated); paint the area to fill, or leave inpaint out.",
  mask_full:
    "The inpaint mask marks every pixel to generate, so nothing of the product is kept; leave the product black (or opaque with mask_from alpha) in the mask.",
  provenance_unavailable:
    'This deployment has no C2PA signing certificate, so it cannot sign Content Credentials; ask "provenance": {"embed": "iptc"} for the IPTC label alone, or ask the operator to configure a certificate.',
  pose_face_not_detected: "No face was found in the pose image; use another pose image, or give the keypoints as points instead.",
  deadline_exceeded: "The job did not finish before its deadline; allow more deadline_seconds, or try when the service is less busy.",
  worker_lost: "The GPU worker stopped responding on every attempt; try again, and report it with the job id if it persists.",
  worker_crashed: "The GPU worker crashed; try again, and report it with the job id if it persists.",
  worker_shutdown: "The GPU worker shut down while running the job too many times; try again.",
  no_capacity: "No GPU took the job in time; try again later.",
  dispatch_rejected: "The GPU pool refused the job; try again later, and report it with the job id if it persists.",
  output_upload_failed: "The results could not be stored; try again.",
  internal_error: "The API had an internal error; try again, and report it with the request id if it persists.",
  temporarily_unavailable: "The API's storage was briefly unavailable and nothing was changed; send the same request again in a moment.",
};
