/** The EcomID API's TypeScript SDK: fetch + zod, typed from the shared schemas; runs in Node, browsers and workers. */
export { EcomidClient, type EcomidClientOptions, type CreateJobParams, type CreateJobOptions, type ListJobsParams } from "./client.js";
export { EcomidApiError, EcomidResponseError, EcomidTimeoutError, parseRetryAfter } from "./errors.js";
export { type WaitOptions } from "./wait.js";
export { parseSse, type SseMessage } from "./sse.js";
export { verifyWebhook, WebhookVerificationError, type WebhookHeaders, type WebhookEvent, type VerifyWebhookOptions } from "./webhooks.js";
export { sniffImageType, buildJobForm, type FileInput } from "./files.js";
export type { Job, JobEvent, JobStatus } from "../api/job.js";
export type { ErrorCode, Problem } from "../errors.js";
export { isRepeatable, DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry.js";
