/** The public API's contract: schemas, types and limits shared by the edge, the SDK and the CLI. */
export * from "../errors.js";
export * from "./limits.js";
export * from "./job-input.js";
export * from "./job.js";
export * from "./uploads.js";
export * from "./keys.js";
export * from "./models.js";
export * from "./webhooks.js";
export * from "./pools.js";
export * from "./error-advice.js";
export * from "./capabilities.js";
export * from "./output-size.js";
export * from "./provenance.js";
