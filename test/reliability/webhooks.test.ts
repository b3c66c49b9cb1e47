import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, stopStack, type StackInfo } from "../e2e/support/stack.js";
import { seedFromEnv } from "./support/rng.js";
import { formatWebhookReport, runWebhooks, webhookStackOptions, type WebhookOptions } from "./webhooks-run.js";

/**
 * CI size of the webhook suite (full size: scripts/reliability-webhooks.ts). Repeat a
 * failing run's injected failures with RELIABILITY_SEED=<the printed seed>.
 */
const seed = seedFromEnv("RELIABILITY_SEED", "webhooks");
// 13 attempts over ~42 s: covers the 8 s outage plus the receiver's worst run of failures.
const retryDelaysSeconds = [1, 1, 2, 2, 3, 3, 5, 5, 5, 5, 5, 5];
let stack: StackInfo;

beforeAll(async () => {
  stack = await startStack(webhookStackOptions(retryDelaysSeconds));
});
afterAll(async () => {
  if (stack) await stopStack(stack.stateDir);
});

describe(`webhooks to a receiver that fails half its requests and goes down (seed ${seed})`, () => {
  it("every event of every job is delivered, verifies, and can be put in order by sequence", async () => {
    const options: WebhookOptions = {
      seed,
      jobs: 4,
      submitGapMs: 0,
      steps: 6,
      longSteps: 50,
      longSide: 192,
      failureRate: 0.5,
      maxFailuresPerDelivery: 3,
      maxTimeouts: 2,
      downAtMs: 6000,
      downForMs: 8000,
      retryDelaysSeconds,
      jobsWithinMs: 300_000,
    };
    const report = await runWebhooks(stack, options);
    console.log(formatWebhookReport(report));
    expect(report.violations, `seed ${seed}`).toEqual([]);
    // Every subscribable type occurred and arrived (the roles are built to produce each one).
    expect(Object.keys(report.eventsByType).sort()).toEqual(["job.aborted", "job.canceled", "job.failed", "job.progress", "job.succeeded"]);
    for (const job of report.jobs) expect(job.delivered, `${job.id} (${job.role})`).toBe(job.expected);
    // The faults were real: failures were injected and the outage refused attempts.
    const injected = Object.values(report.injected).reduce((a, b) => a + b, 0);
    expect(injected, `seed ${seed}`).toBeGreaterThan(report.receiverRequests / 4);
    expect(report.refusedWhileDown, `seed ${seed}`).toBeGreaterThan(0);
  });
});
