import { describe, expect, it } from "vitest";
import {
  DISPATCH_SILENCE_MS,
  dueAction,
  MAX_QUEUED_MS,
  nextAlarmAt,
  OUTPUT_SWEEP_GRACE_MS,
  outputSweepAt,
  type JobClock,
} from "../../edge/src/jobs/job-timers.js";

const T0 = 1_800_000_000_000;
const clock = (over: Partial<JobClock> = {}): JobClock => ({
  status: "queued",
  deadlineAtMs: null,
  leaseUntilMs: null,
  queuedSinceMs: T0,
  lastDispatchTryMs: T0,
  expiresAtMs: null,
  dataRemoved: false,
  outputSweepAtMs: null,
  ...over,
});

describe("job timers (pure)", () => {
  it("a queued job waits for the silence check first, then the no-capacity backstop", () => {
    const queued = clock();
    expect(nextAlarmAt(queued)).toBe(T0 + DISPATCH_SILENCE_MS);
    expect(dueAction(queued, T0 + DISPATCH_SILENCE_MS - 1)).toBe("none");
    expect(dueAction(queued, T0 + DISPATCH_SILENCE_MS)).toBe("resend_dispatch");
    // A dispatch try pushes the silence check forward; the backstop stays where it was.
    const tried = clock({ lastDispatchTryMs: T0 + MAX_QUEUED_MS - 1000 });
    expect(nextAlarmAt(tried)).toBe(T0 + MAX_QUEUED_MS);
    expect(dueAction(tried, T0 + MAX_QUEUED_MS)).toBe("queued_too_long");
  });

  it("a job on a GPU is watched by its lease alone, and a deadline beats every other timer", () => {
    const running = clock({ status: "running", leaseUntilMs: T0 + 4000 });
    expect(nextAlarmAt(running)).toBe(T0 + 4000);
    expect(dueAction(running, T0 + 3999)).toBe("none");
    expect(dueAction(running, T0 + 4000)).toBe("lease_expired");
    // Queued with a lease (dispatched, not started yet): the lease, not the queue timers.
    expect(dueAction(clock({ leaseUntilMs: T0 + 4000 }), T0 + DISPATCH_SILENCE_MS)).toBe("lease_expired");
    const withDeadline = clock({ status: "running", leaseUntilMs: T0 + 4000, deadlineAtMs: T0 + 2000 });
    expect(nextAlarmAt(withDeadline)).toBe(T0 + 2000);
    expect(dueAction(withDeadline, T0 + 5000)).toBe("deadline");
  });

  it("a finished job wakes once, when its retention ends, and never after its data is gone", () => {
    const done = clock({ status: "succeeded", expiresAtMs: T0 + 3600_000, deadlineAtMs: T0, leaseUntilMs: T0 });
    expect(nextAlarmAt(done)).toBe(T0 + 3600_000);
    expect(dueAction(done, T0 + 3599_999)).toBe("none");
    expect(dueAction(done, T0 + 3600_000)).toBe("retention_ended");
    const purged = { ...done, dataRemoved: true };
    expect(nextAlarmAt(purged)).toBeNull();
    expect(dueAction(purged, T0 + 7200_000)).toBe("none");
  });

  it("a job whose files were deleted while its output URLs were valid wakes once more, after they expire", () => {
    expect(outputSweepAt(T0 + 1000, T0)).toBe(T0 + 1000 + OUTPUT_SWEEP_GRACE_MS);
    expect(outputSweepAt(T0, T0)).toBeNull();
    expect(outputSweepAt(undefined, T0)).toBeNull();
    const removed = clock({ status: "failed", expiresAtMs: T0, dataRemoved: true, outputSweepAtMs: T0 + 9000 });
    expect(nextAlarmAt(removed)).toBe(T0 + 9000);
    expect(dueAction(removed, T0 + 8999)).toBe("none");
    expect(dueAction(removed, T0 + 9000)).toBe("sweep_outputs");
    expect(nextAlarmAt({ ...removed, outputSweepAtMs: null })).toBeNull();
  });
});
