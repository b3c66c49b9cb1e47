/**
 * The inference process: loads and warms the bundle once, then runs jobs sent by the
 * HTTP process. onnxruntime's run() blocks this event loop for a whole model call,
 * which is why it lives here; cancel messages are seen between model calls.
 */
import { EcomidPipeline } from "../pipelines/ecomid.js";
import { JobCanceled, toJobError } from "../pipelines/job-failure.js";
import type { OutputLabelling } from "../pipelines/output-provenance.js";
import { loadSigner, preloadC2pa } from "../provenance/index.js";
import { ModelBundle } from "../runtime/bundle.js";
import { readConfig, type ServiceConfig } from "../runtime/config.js";
import { encodeImage } from "../runtime/image.js";
import { boundLog, log } from "../runtime/log.js";
import { SOFTWARE_AGENT } from "../runtime/version.js";
import type { FromWorker, ToWorker } from "./messages.js";
import { warmUp } from "./warm-up.js";

const send = (m: FromWorker) => process.send?.(m);
const canceled = new Set<string>();
let pipeline: EcomidPipeline | null = null;
let queue: Promise<void> = Promise.resolve();

/**
 * The operator's signer, checked (the key is the certificate's and fits the algorithm) before the bundle loads, and
 * the C2PA WebAssembly module compiled now rather than during the first job.
 */
function outputLabelling(config: ServiceConfig): OutputLabelling {
  if (!config.c2pa) {
    log("warn", "no C2PA certificate configured: jobs asking for provenance c2pa+iptc will fail with provenance_unavailable");
    return { signer: null, developmentCertificate: false, softwareAgent: SOFTWARE_AGENT };
  }
  const signer = loadSigner(config.c2pa);
  preloadC2pa();
  log("info", "C2PA signer loaded", {
    subject: signer.subject,
    alg: signer.alg,
    development_certificate: config.c2pa.developmentCertificate,
  });
  return { signer, developmentCertificate: config.c2pa.developmentCertificate, softwareAgent: SOFTWARE_AGENT };
}

async function load(): Promise<void> {
  const config = readConfig();
  const t0 = performance.now();
  try {
    const bundle = await ModelBundle.open(
      config.bundleDir,
      { provider: config.provider, graphsInMemory: config.graphsInMemory, log },
      { skipHashes: config.skipHashes },
    );
    pipeline = await EcomidPipeline.load(bundle, { labelling: outputLabelling(config) });
    const loadMs = Math.round(performance.now() - t0);
    const t1 = performance.now();
    await warmUp(pipeline, bundle);
    const provider = (await bundle.graph("denoiser")).provider;
    send({
      type: "ready",
      provider,
      bundleId: `${bundle.manifest.id}@${bundle.manifest.version}`,
      loadMs,
      warmupMs: Math.round(performance.now() - t1),
    });
  } catch (e) {
    send({ type: "load_failed", message: e instanceof Error ? e.message : String(e) });
  }
}

async function run(m: Extract<ToWorker, { type: "run" }>): Promise<void> {
  const jobLog = boundLog({ job_id: m.jobId, request_id: m.requestId, attempt: m.attempt, process: "inference" });
  if (!pipeline)
    return void send({
      type: "failed",
      jobId: m.jobId,
      error: { code: "internal_error", message: "the model is not loaded", retryable: true },
      stagesMs: {},
    });
  let lastPreviewAt = 0;
  send({ type: "running", jobId: m.jobId });
  jobLog("info", "inference started", {
    steps: m.spec.steps,
    width: m.spec.width,
    height: m.spec.height,
    num_outputs: m.spec.num_outputs,
    sampler: m.spec.sampler,
  });
  try {
    const result = await pipeline.run(
      {
        jobId: m.jobId,
        spec: m.spec,
        references: m.references,
        keypointImage: m.keypointImage,
        controlImages: m.controlImages,
        intermediates: m.intermediates,
      },
      {
        isCanceled: () => canceled.has(m.jobId),
        deadlineMs: m.deadlineMs,
        onProgress: async (stage, step, totalSteps, preview) => {
          // Previews at most twice a second: they are for people watching, not for every step.
          const now = Date.now();
          const withPreview = preview && now - lastPreviewAt > 500 ? await encodeImage(preview(), "webp", { quality: 60 }) : null;
          if (withPreview) lastPreviewAt = now;
          send({ type: "progress", jobId: m.jobId, stage, step, totalSteps, preview: withPreview });
        },
      },
    );
    jobLog("info", "inference finished", { stages_ms: result.stagesMs });
    send({
      type: "result",
      jobId: m.jobId,
      provenance: result.provenance,
      outputs: result.outputs.map(({ rgb: _rgb, ...o }) => o),
      intermediates: result.intermediates,
      faces: result.faces,
      chosenFace: result.chosenFace,
      stagesMs: result.stagesMs,
    });
  } catch (e) {
    if (e instanceof JobCanceled) {
      jobLog("info", "inference stopped: canceled");
      send({ type: "canceled", jobId: m.jobId });
    } else {
      const error = toJobError(e);
      jobLog(error.code === "internal_error" ? "error" : "info", "inference failed", {
        code: error.code,
        error: error.code === "internal_error" && e instanceof Error ? e.stack : error.message,
      });
      send({ type: "failed", jobId: m.jobId, error, stagesMs: {} });
    }
  } finally {
    canceled.delete(m.jobId);
  }
}

process.on("message", (m: ToWorker) => {
  if (m.type === "cancel") canceled.add(m.jobId);
  // One job at a time per process: the device runs one graph at a time anyway.
  else if (m.type === "run") queue = queue.then(() => run(m));
});
process.on("disconnect", () => process.exit(0));
// The HTTP process decides when inference stops (it drains, then kills this process): a
// Ctrl-C or SIGTERM sent to the whole process group must not cut short a job it lets finish.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => {});
void load();
