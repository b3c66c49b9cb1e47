import type { Job, JobEvent } from "@ecomid/shared/sdk";

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * The live progress line on stderr, fed by the job's events (or polled jobs).
 * On a terminal it redraws one line; otherwise (CI logs, pipes) it prints a line
 * only when something changes, so logs stay readable.
 */
export class ProgressBar {
  private lastLine = "";
  private drawn = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly width = 24,
  ) {}

  onEvent = (event: JobEvent): void => {
    const data = event.data as {
      progress?: { stage: string; step: number; total_steps: number };
      attempt?: number;
      cached?: boolean;
      reason?: { code?: string };
    };
    if (event.type === "job.progress" && data.progress)
      this.show(this.bar(data.progress.step, data.progress.total_steps, data.progress.stage));
    else if (event.type === "job.queued") this.show("queued");
    else if (event.type === "job.started") this.show(`started (attempt ${data.attempt ?? 1})`);
    else if (event.type === "job.retrying")
      this.show(`retrying (attempt ${data.attempt ?? "?"}${data.reason?.code ? `, after ${data.reason.code}` : ""})`);
    else if (event.type === "job.succeeded") this.show(data.cached ? "succeeded (from the result cache)" : this.bar(1, 1, "done"));
    else this.show(event.type.replace("job.", ""));
  };

  onPoll = (job: Job): void => {
    if (job.progress && job.status === "running") this.show(this.bar(job.progress.step, job.progress.total_steps, job.progress.stage));
    else this.show(job.substatus ? `${job.status} (${job.substatus})` : job.status);
  };

  /** Ends the redrawn line so later output starts on a fresh one. */
  finish(): void {
    if (this.stream.isTTY && this.drawn) this.stream.write("\n");
    this.drawn = false;
  }

  bar(step: number, total: number, stage: string): string {
    // Stages before denoising (decode, faces, text...) report no steps: show their name only.
    if (total <= 0) return stage;
    const fraction = total > 0 ? Math.min(1, step / total) : 0;
    const filled = Math.round(fraction * this.width);
    return `[${"#".repeat(filled)}${"-".repeat(this.width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}% ${step}/${total} ${stage}`;
  }

  private show(line: string): void {
    if (line === this.lastLine) return;
    this.lastLine = line;
    if (this.stream.isTTY) {
      // columns is 0 or missing when the terminal size is unknown (script, some CI ttys).
      const max = (this.stream.columns || 80) - 1;
      this.stream.write(`\r\x1b[K${line.slice(0, max)}`);
      this.drawn = true;
    } else {
      this.stream.write(`${line}\n`);
    }
  }
}
