import { afterEach, describe, expect, it, vi } from "vitest";
import { log } from "./log.js";

describe("GPU-function logs", () => {
  afterEach(() => vi.restoreAllMocks());

  it("mask signed-URL signatures, bearer tokens and secret-named fields, and keep the rest", () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => (lines.push(String(chunk)), true));
    log("warn", "upload to https://edge.example/files/jobs/o/j/0.webp?exp=1&sig=abcdef0123456789 failed", {
      job_id: "job_1",
      callback: { url: "https://edge.example/internal/gpu/jobs/job_1/callbacks", secret: "s3cr3t-value" },
      authorization: "Bearer tok_0123456789",
      error: "dispatch with Bearer abc.def.ghi refused",
    });
    const line = JSON.parse(lines.join("")) as Record<string, any>;
    expect(line.msg).toContain("sig=[redacted]");
    expect(line.msg).not.toContain("abcdef0123456789");
    expect(line.callback).toEqual({ url: "https://edge.example/internal/gpu/jobs/job_1/callbacks", secret: "[redacted]" });
    expect(line.authorization).toBe("[redacted]");
    expect(line.error).toBe("dispatch with Bearer [redacted] refused");
    expect(line).toMatchObject({ level: "warn", component: "gpu-function", job_id: "job_1" });
  });
});
