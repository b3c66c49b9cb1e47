import type { ErrorCode, Problem } from "@ecomid/shared/api";

type FieldError = NonNullable<Problem["errors"]>[number];

/**
 * Every code's HTTP status. Total, so a code added to ErrorCode does not compile until it
 * has one. The job-failure codes answer no request today (they are reported on jobs);
 * theirs say what they would mean as an answer.
 */
const STATUS_BY_CODE: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_json: 400,
  invalid_multipart: 400,
  unauthorized: 401,
  key_revoked: 401,
  signature_invalid: 403,
  signature_expired: 403,
  forbidden: 403,
  not_found: 404,
  model_not_found: 404,
  method_not_allowed: 405,
  idempotency_in_progress: 409,
  job_not_cancelable: 409,
  stale_attempt: 409,
  upload_not_ready: 409,
  upload_already_complete: 409,
  output_exists: 409,
  output_not_available: 410,
  upload_expired: 410,
  payload_too_large: 413,
  image_too_large: 413,
  unsupported_media_type: 415,
  unsupported_image_format: 415,
  idempotency_key_reused: 422,
  parameter_out_of_range: 422,
  image_undecodable: 422,
  url_not_allowed: 422,
  input_fetch_failed: 422,
  face_not_detected: 422,
  face_index_out_of_range: 422,
  pose_face_not_detected: 422,
  capability_not_supported: 422,
  mask_size_mismatch: 422,
  mask_missing_alpha: 422,
  mask_empty: 422,
  mask_full: 422,
  // The job asked for a signed C2PA manifest that this deployment cannot make (no certificate): like
  // capability_not_supported, a request this service cannot fulfil as asked; another attempt would fail alike.
  provenance_unavailable: 422,
  rate_limited: 429,
  too_many_jobs_in_flight: 429,
  internal_error: 500,
  dispatch_rejected: 502,
  output_upload_failed: 502,
  worker_lost: 502,
  worker_crashed: 502,
  worker_shutdown: 503,
  no_capacity: 503,
  temporarily_unavailable: 503,
  deadline_exceeded: 504,
};

export function statusForCode(code: ErrorCode): number {
  return STATUS_BY_CODE[code];
}

export interface AppErrorOptions {
  errors?: FieldError[];
  headers?: Record<string, string>;
  status?: number;
  /** What the client can do about it, beside what went wrong (`detail`); sent as the problem's `hint`. */
  hint?: string;
  /** RFC 9457 extension members, for machine readers beside `code` (e.g. `cancel` for a GPU function). */
  extensions?: Record<string, unknown>;
}

/**
 * The one error type of the edge; `onError` turns it into application/problem+json.
 * Code, message (`detail`, also `message`) and hint are separate fields, as on a job's error.
 */
export class AppError extends Error {
  readonly status: number;
  readonly hint: string | undefined;
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly options: AppErrorOptions = {},
  ) {
    super(detail);
    this.status = options.status ?? statusForCode(code);
    this.hint = options.hint;
  }
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  410: "Gone",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

export function problemBody(err: AppError, requestId: string): Problem {
  return {
    ...err.options.extensions,
    type: `https://docs.ecomid.dev/errors/${err.code}`,
    title: TITLES[err.status] ?? "Error",
    status: err.status,
    detail: err.detail,
    code: err.code,
    request_id: requestId,
    ...(err.hint ? { hint: err.hint } : {}),
    ...(err.options.errors?.length ? { errors: err.options.errors } : {}),
  };
}

export function problemResponse(err: AppError, requestId: string, extraHeaders: Headers | Record<string, string> = {}): Response {
  const headers = new Headers(extraHeaders);
  headers.set("content-type", "application/problem+json");
  headers.set("x-request-id", requestId);
  for (const [k, v] of Object.entries(err.options.headers ?? {})) headers.set(k, v);
  return new Response(JSON.stringify(problemBody(err, requestId)), { status: err.status, headers });
}

/** zod issue paths -> RFC 6901 pointers under `base`. */
export function zodIssuesToFieldErrors(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string; code: string }>,
  base = "",
): FieldError[] {
  return issues.map((i) => ({
    pointer: base + i.path.map((p) => "/" + String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join(""),
    code: i.code,
    message: i.message,
  }));
}
