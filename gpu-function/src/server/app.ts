import { Hono } from "hono";
import { GpuJobRequest } from "../../../shared/src/protocol/gpu-protocol.js";
import { timingSafeEqualHex } from "../../../shared/src/protocol/signature.js";
import type { ServiceConfig } from "../runtime/config.js";
import type { JobRunner } from "./job-runner.js";
import type { Metrics } from "./metrics.js";

/** The edge <-> GPU protocol's GPU side (shared/src/protocol/gpu-protocol.ts), plus health and metrics. */
export function createApp(config: ServiceConfig, runner: JobRunner, metrics: Metrics) {
  const app = new Hono();
  const token = Buffer.from(config.dispatchToken).toString("hex");
  const authorized = (header: string | undefined) => {
    const given = /^Bearer (.+)$/.exec(header ?? "")?.[1];
    return given !== undefined && timingSafeEqualHex(Buffer.from(given).toString("hex"), token);
  };
  const problem = (status: 400 | 401 | 404 | 429 | 503, code: string, detail: string, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify({ status, code, detail }), { status, headers: { "content-type": "application/problem+json", ...headers } });

  app.post("/v1/jobs", async (c) => {
    if (!authorized(c.req.header("authorization"))) return problem(401, "unauthorized", "bad dispatch token");
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return problem(400, "invalid_json", "the body is not JSON");
    }
    const parsed = GpuJobRequest.safeParse(body);
    if (!parsed.success) return problem(400, "invalid_request", parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    const result = runner.accept(parsed.data);
    if (result === "not_ready") return problem(503, "not_ready", runner.loadError ?? "the model is still loading", { "retry-after": "5" });
    if (result === "busy") return problem(429, "busy", `running ${runner.inFlight} of ${config.jobsPerDevice} jobs`, { "retry-after": "2" });
    return c.json({ accepted: true, duplicate: result === "duplicate" }, 202);
  });

  app.post("/v1/jobs/:id/cancel", (c) => {
    if (!authorized(c.req.header("authorization"))) return problem(401, "unauthorized", "bad dispatch token");
    return runner.cancel(c.req.param("id")) ? c.json({ canceling: true }, 202) : problem(404, "not_found", "no such job here");
  });

  app.get("/health", (c) =>
    c.json(
      {
        status: runner.isReady ? "ok" : runner.loadError ? "failed" : "loading",
        model_ready: runner.isReady,
        bundle: runner.bundleId,
        execution_provider: runner.provider,
        in_flight: runner.inFlight,
        capacity: config.jobsPerDevice,
        error: runner.loadError,
      },
      runner.isReady ? 200 : 503,
    ),
  );

  app.get("/metrics", (c) => c.text(metrics.render(), 200, { "content-type": "text/plain; version=0.0.4" }));
  return app;
}
