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

// Graceful stop: no new jobs; running ones get a moment, then the edge's lease hands them to another replica.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    log("info", "stopping", { signal, inFlight: runner.inFlight });
    server.close();
    void runner.stop().then(() => process.exit(0));
  });
}
