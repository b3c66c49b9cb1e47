import { z } from "zod";
import { ErrorCode } from "../errors.js";

/**
 * Why a GPU function refused a dispatch or a cancel: the `code` of its problem+json answer.
 * Problems with the request share the public codes; the others describe the GPU function's
 * state, which the edge acts on (later, or another pool) and never shows a client.
 * A refusal is sent before any input is fetched: what decoding finds (mask_empty,
 * mask_full) is a failed job (GpuCallback "failed"), and a bundle lacking a ControlNet is
 * bundle_mismatch (the edge refused capability_not_supported against its catalog already).
 */
export const GpuRefusalCode = z.enum([
  ...ErrorCode.extract(["unauthorized", "invalid_json", "invalid_request", "not_found"]).options,
  "bundle_mismatch",
  "busy",
  "not_ready",
  "draining",
]);
export type GpuRefusalCode = z.infer<typeof GpuRefusalCode>;

/**
 * The status each refusal is sent with. The edge's dispatch decides by status alone:
 * 429 and 503 mean try again later, 409 another pool, any other 4xx fails the job.
 */
export const GPU_REFUSAL_STATUS = {
  invalid_json: 400,
  invalid_request: 400,
  unauthorized: 401,
  not_found: 404,
  bundle_mismatch: 409,
  busy: 429,
  not_ready: 503,
  draining: 503,
} as const satisfies Record<GpuRefusalCode, number>;

export const GpuRefusal = z
  .object({ status: z.number().int(), code: GpuRefusalCode, detail: z.string() })
  .meta({ id: "GpuRefusal", description: "A GPU function's application/problem+json refusal" });
export type GpuRefusal = z.infer<typeof GpuRefusal>;
