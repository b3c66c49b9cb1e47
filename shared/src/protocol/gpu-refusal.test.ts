import { describe, expect, it } from "vitest";
import { ErrorCode } from "../errors.js";
import { GPU_REFUSAL_STATUS, GpuRefusal, GpuRefusalCode } from "./gpu-refusal.js";

describe("GPU refusals", () => {
  it("share the public codes for request problems and keep the GPU function's states to the protocol", () => {
    const publicCodes = GpuRefusalCode.options.filter((code) => ErrorCode.safeParse(code).success);
    expect(publicCodes).toEqual(["unauthorized", "invalid_json", "invalid_request", "not_found"]);
    expect(GpuRefusal.safeParse({ status: 429, code: "busy", detail: "running 1 of 1 jobs" }).success).toBe(true);
    expect(GpuRefusal.safeParse({ status: 429, code: "overloaded", detail: "?" }).success).toBe(false);
  });

  it("send a full, loading or draining GPU function's refusal with a status the edge retries later (429 or 503)", () => {
    expect([GPU_REFUSAL_STATUS.busy, GPU_REFUSAL_STATUS.not_ready, GPU_REFUSAL_STATUS.draining]).toEqual([429, 503, 503]);
  });
});
