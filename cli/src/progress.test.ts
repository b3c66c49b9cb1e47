import { describe, expect, it } from "vitest";
import type { JobEvent } from "@ecomid/shared/sdk";
import { ProgressBar } from "./progress.js";

const event = (sequence: number, type: JobEvent["type"], data: Record<string, unknown> = {}): JobEvent => ({
  sequence,
  type,
  at: "2026-11-26T08:00:00.000Z",
  data,
});
const step = (n: number, total = 4, stage = "denoising") => event(n, "job.progress", { progress: { stage, step: n, total_steps: total } });

function capture(isTTY: boolean, columns?: number) {
  let text = "";
  return { stream: { isTTY, ...(columns !== undefined ? { columns } : {}), write: (t: string) => (text += t) }, text: () => text };
}

describe("ProgressBar", () => {
  it("prints one line per change when stderr is not a terminal", () => {
    const out = capture(false);
    const bar = new ProgressBar(out.stream, 8);
    for (const e of [
      event(1, "job.queued"),
      event(2, "job.progress", { progress: { stage: "faces", step: 0, total_steps: 0 } }),
      step(2),
      step(2),
      step(4),
    ])
      bar.onEvent(e);
    bar.finish();
    expect(out.text()).toBe("queued\nfaces\n[####----]  50% 2/4 denoising\n[########] 100% 4/4 denoising\n");
  });

  it("redraws one line on a terminal, whole even when its width is unknown, and ends it", () => {
    const out = capture(true, 0);
    const bar = new ProgressBar(out.stream, 4);
    bar.onEvent(step(1));
    bar.onEvent(event(2, "job.succeeded", { cached: true }));
    bar.finish();
    expect(out.text()).toBe("\r\x1b[K[#---]  25% 1/4 denoising\r\x1b[Ksucceeded (from the result cache)\n");
  });
});
