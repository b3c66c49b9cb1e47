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
  return provenanceMismatch(job, report);
}

/**
 * A reported label other than the one asked for is refused, so a job never says it is labelled
 * when it is not. A report without provenance (a GPU function from before it) is let through: the job says null.
 */
function provenanceMismatch(job: StoredJob, report: SuccessReport): string | null {
  const reported = report.provenance;
  const asked = job.core.input.provenance;
  if (!reported || !asked) return null;
  if (reported.embedded !== asked.embed) return `provenance ${reported.embedded} reported; the job asked for ${asked.embed}`;
  if ((reported.c2pa !== null) !== (reported.embedded === "c2pa+iptc"))
    return "a C2PA claim is reported exactly when c2pa+iptc was embedded";
  if (reported.prompt_included && !asked.include_prompt) return "the prompt was embedded though the job did not ask for it";
  return null;
}

/** Whether live previews go out for this job (the GPU request's progress_previews). */
export function wantsPreviews(job: StoredJob): boolean {
  return job.core.webhook?.events.includes("job.progress") ?? true;
}
