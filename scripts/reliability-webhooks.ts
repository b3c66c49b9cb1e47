/**
 * The webhook suite at full size: many jobs whose every event (progress included)
 * goes to a receiver that fails about half its requests and is down for a stretch,
 * against the real stack with a compressed retry schedule. The checks are the CI
 * test's (test/reliability/webhooks.test.ts).
 *
 *   npx tsx scripts/reliability-webhooks.ts [--jobs 30] [--down 20] [--seed N]
 *
 * Prints the figures for RELIABILITY.md; exits 1 when any check fails.
 */
import { parseArgs } from "node:util";
import { seedFromEnv } from "../test/reliability/support/rng.js";
import { formatWebhookReport, runWebhooksOnFreshStack } from "../test/reliability/webhooks-run.js";

const { values } = parseArgs({
  options: { jobs: { type: "string", default: "30" }, down: { type: "string", default: "20" }, seed: { type: "string" } },
});
if (values.seed !== undefined) process.env.RELIABILITY_SEED = values.seed;
const seed = seedFromEnv("RELIABILITY_SEED", "reliability-webhooks");

const report = await runWebhooksOnFreshStack({
  seed,
  jobs: Number(values.jobs),
  submitGapMs: 3000,
  steps: 12,
  longSteps: 50,
  longSide: 256,
  failureRate: 0.5,
  maxFailuresPerDelivery: 3,
  maxTimeouts: 6,
  downAtMs: 15_000,
  downForMs: Number(values.down) * 1000,
  // 17 attempts over ~77 s: the outage plus the receiver's worst run of failures, with room.
  retryDelaysSeconds: [1, 1, 2, 2, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 7, 7],
  jobsWithinMs: 1800_000,
});
console.log(formatWebhookReport(report));
console.log(JSON.stringify({ node: process.version, at: new Date().toISOString(), ...report, jobs: undefined }, null, 1));
process.exit(report.violations.length ? 1 : 0);
