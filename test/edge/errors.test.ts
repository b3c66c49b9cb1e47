import { describe, expect, it } from "vitest";
import { ErrorCode } from "@ecomid/shared/api";
import { AppError, problemBody, statusForCode } from "../../edge/src/errors.js";

describe("AppError", () => {
  it("gives every error code an HTTP status with a title", () => {
    for (const code of ErrorCode.options) {
      const body = problemBody(new AppError(code, "what happened"), "req_1");
      expect(body.status, code).toBe(statusForCode(code));
      expect(body.title, code).not.toBe("Error");
    }
  });

  it("keeps the statuses clients already see, and 400 for no code any more", () => {
    expect([
      statusForCode("invalid_request"),
      statusForCode("not_found"),
      statusForCode("output_exists"),
      statusForCode("rate_limited"),
    ]).toEqual([400, 404, 409, 429]);
    expect(ErrorCode.options.filter((code) => statusForCode(code) === 400)).toEqual([
      "invalid_request",
      "invalid_json",
      "invalid_multipart",
    ]);
  });

  it("carries code, message and hint as separate fields, and sends the hint only when there is one", () => {
    const refusal = new AppError("parameter_out_of_range", "/input/prompt: 80 CLIP tokens; at most 75 fit", {
      hint: "Shorten the prompt.",
    });
    expect({ code: refusal.code, message: refusal.message, detail: refusal.detail, hint: refusal.hint }).toEqual({
      code: "parameter_out_of_range",
      message: "/input/prompt: 80 CLIP tokens; at most 75 fit",
      detail: "/input/prompt: 80 CLIP tokens; at most 75 fit",
      hint: "Shorten the prompt.",
    });
    expect(problemBody(refusal, "req_1")).toMatchObject({
      code: "parameter_out_of_range",
      detail: refusal.detail,
      hint: "Shorten the prompt.",
    });
    expect(problemBody(new AppError("not_found", "no such job"), "req_1")).not.toHaveProperty("hint");
  });
});
