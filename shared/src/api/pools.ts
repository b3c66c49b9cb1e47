import { z } from "zod";

/** What the edge last knew of one GPU-function pool (operators: GET /v1/admin/pools). */
export const GpuPoolStatus = z
  .object({
    object: z.literal("gpu_pool"),
    model: z.string(),
    url: z.url(),
    state: z.enum(["healthy", "unhealthy", "unknown"]).meta({ description: "unknown: not probed since the edge's pool monitor started" }),
    checked_at: z.iso.datetime().nullable(),
    consecutive_failures: z.number().int(),
    in_flight: z.number().int().nullable(),
    capacity: z.number().int().nullable(),
    last_error: z.string().nullable(),
  })
  .meta({ id: "GpuPoolStatus" });
export type GpuPoolStatus = z.infer<typeof GpuPoolStatus>;

export const GpuPoolList = z.object({ object: z.literal("list"), data: z.array(GpuPoolStatus) }).meta({ id: "GpuPoolList" });
