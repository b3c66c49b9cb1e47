import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, stopStack, type StackInfo } from "../e2e/support/stack.js";
import { faultStackOptions, formatFaultReport, newSigningSecret, runFault, type FaultReport } from "./fault-run.js";
import { seedFromEnv } from "./support/rng.js";

/**
 * CI size of the fault suite (full size: scripts/reliability-fault.ts). Repeat a
 * failing run's kill schedule with RELIABILITY_SEED=<the printed seed>.
 */
const seed = seedFromEnv("RELIABILITY_SEED", "fault");
const secret = newSigningSecret();
let stack: StackInfo;
let report: FaultReport;

beforeAll(async () => {
  stack = await startStack(faultStackOptions(secret));
});
afterAll(async () => {
  if (stack) await stopStack(stack.stateDir);
});

describe(`GPU functions SIGKILLed at random points (seed ${seed})`, () => {
  it("every job ends succeeded or failed with an expected code, none stuck, no output written twice", async () => {
    report = await runFault(stack, secret, {
      seed,
      jobs: 12,
      kills: 3,
      submitOverMs: 15_000,
      steps: 30,
      settleMs: 150_000,
      giveUpMs: 420_000,
      quietMs: [1000, 6000],
      strikeMs: [0, 2500],
    });
    console.log(formatFaultReport(report));
    expect(report.violations, `seed ${seed}`).toEqual([]);
    expect(report.jobs).toHaveLength(12);
    // The faults were felt: processes died, and jobs went on to another attempt.
    expect(report.kills.length, `seed ${seed}`).toBeGreaterThanOrEqual(1);
    expect(report.jobs.filter((j) => j.attempt > 1).length, `seed ${seed}: no job needed a second attempt`).toBeGreaterThanOrEqual(1);
  });

  it("a signed output URL writes once: different bytes get a 409 problem and change nothing, the same bytes are a replay", () => {
    expect(report?.writeOnce, "the fault run did not get to the probe").toBeTruthy();
    expect(report.writeOnce!.overwrite).toEqual({
      status: 409,
      contentType: expect.stringMatching(/^application\/problem\+json/),
      code: "output_exists",
      unchanged: true,
    });
    expect(report.writeOnce!.replay.status).toBe(200);
  });
});
