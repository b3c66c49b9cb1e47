import { createRoute } from "@hono/zod-openapi";
import { GpuPoolList, type GpuPoolStatus } from "@ecomid/shared/api";
import { getConfig } from "../config/config.js";
import { poolMonitor } from "../durable-objects/pool-monitor.js";
import { json, keyRefusals } from "../openapi/responses.js";
import { newRouter } from "../openapi/router.js";
import { requiresKey } from "../openapi/security.js";

/** Operators see each configured GPU pool as dispatch sees it: healthy, taken out, or not yet probed. */
export const adminPoolRoutes = newRouter();

const listPools = createRoute({
  method: "get",
  path: "/",
  operationId: "listPools",
  summary: "GPU pools as dispatch sees them: healthy, taken out, or not yet probed (admin)",
  ...requiresKey("admin"),
  responses: { 200: json(GpuPoolList, "Pools"), ...keyRefusals },
});

adminPoolRoutes.openapi(listPools, async (c) => {
  const known = new Map((await poolMonitor(c.env).snapshot()).map((p) => [p.url, p]));
  const data: GpuPoolStatus[] = Object.entries(getConfig(c.env).pools).flatMap(([model, urls]) =>
    urls.map((url) => {
      const p = known.get(url);
      return {
        object: "gpu_pool" as const,
        model,
        url,
        state: p ? (p.healthy ? ("healthy" as const) : ("unhealthy" as const)) : ("unknown" as const),
        checked_at: p ? new Date(p.checked_at_ms).toISOString() : null,
        consecutive_failures: p?.consecutive_failures ?? 0,
        in_flight: p?.in_flight ?? null,
        capacity: p?.capacity ?? null,
        last_error: p?.last_error ?? null,
      };
    }),
  );
  return c.json({ object: "list" as const, data }, 200);
});
