/**
 * The fault suite at full size: 100 jobs against the real stack (wrangler dev + the
 * GPU function on the tiny bundle) while the GPU function is SIGKILLed at seeded
 * random points. The checks are the CI test's (test/reliability/fault.test.ts).
 *
 *   npx tsx scripts/reliability-fault.ts [--jobs 100] [--kills 12] [--pace 2] [--seed N]
 *
 * --pace: mean seconds between submissions. At 2 s the one GPU slot (a job takes
 * ~4 s) falls behind and jobs queue for minutes; at 6 s it keeps up between kills.
 *
 * Prints the figures for RELIABILITY.md; exits 1 when any check fails.
 */
import { parseArgs } from "node:util";
import { formatFaultReport, runFaultOnFreshStack } from "../test/reliability/fault-run.js";
import { seedFromEnv } from "../test/reliability/support/rng.js";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "100" },
    kills: { type: "string", default: "12" },
    pace: { type: "string", default: "2" },
    seed: { type: "string" },
  },
});
if (values.seed !== undefined) process.env.RELIABILITY_SEED = values.seed;
const seed = seedFromEnv("RELIABILITY_SEED", "reliability-fault");
const jobs = Number(values.jobs);
const kills = Number(values.kills);

const report = await runFaultOnFreshStack({
  seed,
  jobs,
  kills,
  submitOverMs: jobs * Number(values.pace) * 1000,
  steps: 30,
  settleMs: 300_000,
  giveUpMs: 3600_000,
  quietMs: [2000, 15_000],
  strikeMs: [0, 2500],
});
console.log(formatFaultReport(report));
console.log(
  JSON.stringify(
    { machine: "see RELIABILITY.md", node: process.version, at: new Date().toISOString(), ...report, jobs: undefined },
    null,
    1,
  ),
);
process.exit(report.violations.length ? 1 : 0);
