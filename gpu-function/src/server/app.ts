import { Hono } from "hono";
import { timingSafeEqual } from "@ecomid/shared/crypto";
import { GPU_REFUSAL_STATUS, GpuJobRequest, type GpuRefusal, type GpuRefusalCode } from "@ecomid/shared/protocol";
import type { ServiceConfig } from "../runtime/config.js";
import type { JobRunner } from "./job-runner.js";
import type { Metrics } from "./metrics.js";
import { requestIdFrom } from "./request-id.js";

/** Seconds a refused dispatch is told to wait: the edge retries with backoff, to another pool URL. */
const RETRY_AFTER = { busy: "2", not_ready: "5", draining: "5" } as const satisfies Partial<Record<GpuRefusalCode, string>>;

/** The edge <-> GPU protocol's GPU side (shared/src/protocol/gpu-protocol.ts), plus health and metrics. */
export function createApp(config: ServiceConfig, runner: JobRunner, metrics: Metrics) {
  const app = new Hono<{ Variables: { requestId: string } }>();
  const authorized = (header: string | undefined) => {
    const given = /^Bearer (.+)$/.exec(header ?? "")?.[1];
    return given !== undefined && timingSafeEqual(given, config.dispatchToken);
  };
  const refuse = (code: GpuRefusalCode, detail: string, headers: Record<string, string> = {}) => {
    const status = GPU_REFUSAL_STATUS[code];
    return new Response(JSON.stringify({ status, code, detail } satisfies GpuRefusal), {
      status,
      headers: { "content-type": "application/problem+json", ...headers },
    });
  };

  // The edge's request id, on every answer and (through the job) on every log line and callback.
  app.use("/v1/*", async (c, next) => {
    const requestId = requestIdFrom(c.req.header("x-request-id"));
    c.set("requestId", requestId);
    await next();
    c.res.headers.set("x-request-id", requestId);
  });

  app.post("/v1/jobs", async (c) => {
    if (!authorized(c.req.header("authorization"))) return refuse("unauthorized", "bad dispatch token");
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return refuse("invalid_json", "the body is not JSON");
    }
    const parsed = GpuJobRequest.safeParse(body);
    if (!parsed.success) return refuse("invalid_request", parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    // Another bundle would make other images than the edge promised (and caches under this version).
    if (runner.bundleId !== null && parsed.data.bundle_version !== runner.bundleId) {
      return refuse("bundle_mismatch", `this GPU function serves ${runner.bundleId}, not ${parsed.data.bundle_version}`);
    }
    const result = runner.accept(parsed.data, c.get("requestId"));
    if (result === "draining") return refuse("draining", "this GPU function is shutting down", { "retry-after": RETRY_AFTER.draining });
    if (result === "not_ready")
      return refuse("not_ready", runner.loadError ?? "the model is still loading", { "retry-after": RETRY_AFTER.not_ready });
    if (result === "busy")
      return refuse("busy", `running ${runner.inFlight} of ${config.jobsPerDevice} jobs`, { "retry-after": RETRY_AFTER.busy });
    return c.json({ accepted: true, duplicate: result === "duplicate" }, 202);
  });

  app.post("/v1/jobs/:id/cancel", (c) => {
    if (!authorized(c.req.header("authorization"))) return refuse("unauthorized", "bad dispatch token");
    return runner.cancel(c.req.param("id")) ? c.json({ canceling: true }, 202) : refuse("not_found", "no such job here");
  });

  // Readiness: 200 only while jobs are taken, so a draining or failed replica gets no traffic.
  // Why the bundle failed to load (paths, file names) goes to the logs and to callers with
  // the dispatch token (the edge, an operator), never to anyone who can reach the port.
  app.get("/health", (c) =>
    c.json(
      {
        status: runner.isDraining ? "draining" : runner.isReady ? "ok" : runner.loadError ? "failed" : "loading",
        model_ready: runner.isReady,
        bundle: runner.bundleId,
        execution_provider: runner.provider,
        in_flight: runner.inFlight,
        capacity: config.jobsPerDevice,
        error: runner.loadError && authorized(c.req.header("authorization")) ? runner.loadError : null,
      },
      runner.isReady && !runner.isDraining ? 200 : 503,
    ),
  );

  // Liveness: the HTTP process answers. Loading, draining or a failed bundle are not reasons to restart it
  // (a failed bundle stays failed; /health says why).
  app.get("/live", (c) => c.json({ status: "alive" }));

  app.get("/metrics", (c) => c.text(metrics.render(), 200, { "content-type": "text/plain; version=0.0.4" }));
  return app;
}
