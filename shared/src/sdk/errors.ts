import { Problem, type ErrorCode } from "../errors.js";

type FieldError = NonNullable<Problem["errors"]>[number];

/**
 * Any non-2xx answer from the API. `code` is the problem's stable code; a body that
 * is not problem JSON (a proxy's HTML page, say) gets `unexpected_response`.
 */
export class EcomidApiError extends Error {
  override readonly name = "EcomidApiError";
  readonly status: number;
  readonly code: ErrorCode | "unexpected_response";
  readonly detail: string;
  readonly requestId: string | null;
  readonly errors: FieldError[];
  /** Seconds to wait before trying again (from Retry-After), or null. */
  readonly retryAfter: number | null;

  constructor(init: {
    status: number;
    code: EcomidApiError["code"];
    detail: string;
    requestId: string | null;
    errors?: FieldError[];
    retryAfter?: number | null;
  }) {
    super(`${init.code} (${init.status}): ${init.detail}`);
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.requestId = init.requestId;
    this.errors = init.errors ?? [];
    this.retryAfter = init.retryAfter ?? null;
  }

  /** Reads the body of a failed response; never throws for a malformed body. */
  static async fromResponse(response: Response): Promise<EcomidApiError> {
    const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
    const headerId = response.headers.get("x-request-id");
    const text = await response.text().catch(() => "");
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const problem = Problem.safeParse(json);
    if (problem.success) {
      const p = problem.data;
      return new EcomidApiError({
        status: response.status,
        code: p.code,
        detail: p.detail,
        requestId: p.request_id,
        errors: p.errors ?? [],
        retryAfter,
      });
    }
    const snippet = text.trim().slice(0, 200) || response.statusText || "no body";
    return new EcomidApiError({
      status: response.status,
      code: "unexpected_response",
      detail: `HTTP ${response.status}: ${snippet}`,
      requestId: headerId,
      retryAfter,
    });
  }
}

/** The API answered 2xx with a body that does not match the shared schema. */
export class EcomidResponseError extends Error {
  override readonly name = "EcomidResponseError";
}

/** waitForJob ran past its timeoutMs. */
export class EcomidTimeoutError extends Error {
  override readonly name = "EcomidTimeoutError";
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}
