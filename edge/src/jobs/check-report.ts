import type { GpuCallback } from "@ecomid/shared/protocol";
import type { StoredJob } from "./types.js";

type SuccessReport = Extract<GpuCallback, { type: "succeeded" }>;

/**
 * Why a GPU function's success report does not fit the job it was given, or null when
 * it does: exactly the outputs the job asked for, each once, and intermediates only of
 * the kinds it asked for, each once. Anything else is refused, not recorded: the job's
 * record lists nothing the customer did not ask for.
 */
export function successReportMismatch(job: StoredJob, report: SuccessReport): string | null {
  const wanted = job.core.input.num_outputs;
  const indexes = report.outputs.map((o) => o.index).sort((a, b) => a - b);
  if (indexes.length !== wanted || indexes.some((index, i) => index !== i)) {
    return `outputs ${JSON.stringify(indexes)} reported; the job asked for ${wanted} (indexes 0 to ${wanted - 1})`;
  }
  const asked = new Set<string>(job.core.input.return_intermediates);
  const kinds = report.intermediates.map((i) => i.kind);
  const unasked = kinds.filter((k) => !asked.has(k));
  if (unasked.length) return `intermediates the job did not ask for: ${unasked.join(", ")}`;
  if (new Set(kinds).size !== kinds.length) return "an intermediate is reported twice";
  return null;
}

/** Whether live previews go out for this job (the GPU request's progress_previews). */
export function wantsPreviews(job: StoredJob): boolean {
  return job.core.webhook?.events.includes("job.progress") ?? true;
}
