import { describe, expect, it } from "vitest";
import { ERROR_ADVICE } from "@ecomid/shared/api";
import { EcomidApiError } from "@ecomid/shared/sdk";
import { describeApiError, describeJobFailure } from "./messages.js";

describe("error messages", () => {
  it("puts code, detail, field pointers, Retry-After, advice and request id on one line", () => {
    const line = describeApiError(
      new EcomidApiError({
        status: 422,
        code: "invalid_request",
        detail: "/input/width: width must be a multiple of 8",
        requestId: "req_1",
        retryAfter: null,
        errors: [{ pointer: "/input/width", code: "custom", message: "width must be a multiple of 8" }],
      }),
    );
    expect(line).toBe(
      `error invalid_request: /input/width: width must be a multiple of 8. ${ERROR_ADVICE.invalid_request} (request req_1)`,
    );
    expect(
      describeApiError(
        new EcomidApiError({
          status: 422,
          code: "invalid_request",
          detail: "2 fields are invalid",
          requestId: null,
          errors: [{ pointer: "/input/steps", code: "too_big", message: "at most 100" }],
        }),
      ),
    ).toContain("2 fields are invalid [/input/steps: at most 100].");
    expect(
      describeApiError(new EcomidApiError({ status: 429, code: "rate_limited", detail: "slow down", requestId: null, retryAfter: 3 })),
    ).toContain("(retry after 3 s)");
    expect(
      describeApiError(new EcomidApiError({ status: 502, code: "unexpected_response", detail: "HTTP 502", requestId: null })),
    ).toContain("Check --base-url");
  });

  it("explains a failed job with its code, preferring the API's hint", () => {
    const job = { id: "job_1", status: "failed", error: { code: "face_not_detected" as const, message: "no face in the reference" } };
    expect(describeJobFailure(job)).toBe(
      `job job_1 failed: face_not_detected: no face in the reference. ${ERROR_ADVICE.face_not_detected}`,
    );
    expect(describeJobFailure({ ...job, error: { ...job.error, hint: "Crop closer." } })).toMatch(/Crop closer\.$/);
    expect(describeJobFailure({ id: "job_2", status: "canceled", error: null })).toBe("job job_2 ended canceled.");
  });
});
