import { serve } from "@hono/node-server";
import { readConfig } from "../runtime/config.js";
import { log } from "../runtime/log.js";
import { createApp } from "./app.js";
import { JobRunner } from "./job-runner.js";
import { Metrics } from "./metrics.js";

/** The GPU function: HTTP here, inference in a child process (see job-runner.ts). */
const config = readConfig();
const metrics = new Metrics();
const runner = new JobRunner(config, metrics);
runner.start();
const server = serve({ fetch: createApp(config, runner, metrics).fetch, port: config.port, hostname: config.host }, (info) =>
  log("info", "gpu-function listening", { url: `http://${config.host}:${info.port}`, bundle: config.bundleDir }),
);

/**
 * Graceful stop. /health turns 503 "draining" (readiness fails, the endpoint leaves the
 * Service) and new dispatches get 503 "draining"; the job in flight gets DRAIN_SECONDS to
 * finish and report, else it is stopped and handed back to the edge as a retryable
 * worker_shutdown failure. The HTTP server stays up until then: callbacks' cancel answers
 * and /health must keep working. A second signal does not cut the drain short.
 */
let shuttingDown = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (shuttingDown) return void log("info", "already stopping; the drain goes on", { signal, in_flight: runner.inFlight });
    shuttingDown = true;
    log("info", "stopping", { signal, in_flight: runner.inFlight });
    void runner
      .drain()
      .then(() => runner.stop())
      .then(() => {
        server.close();
        log("info", "stopped");
        process.exit(0);
      });
  });
}
