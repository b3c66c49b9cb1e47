import { z } from "zod";
import type { AppContext } from "../../env.js";
import { AppError } from "../../errors.js";
import type { StoredJob } from "../../jobs/types.js";
import { JOB_ID_PATTERN } from "../../lib/ids.js";

/** A job's path parameter: any string; one that cannot be a job's id is a 404 (ownedJobOr404), not a 422. */
export const JobPath = z.object({ id: z.string() });

/**
 * Reads come from the job's own Durable Object (the source of truth, one per job, so
 * status reads never queue behind a shared database). Another owner's job is
 * indistinguishable from a missing one.
 */
export async function ownedJobOr404(c: AppContext, id: string) {
  if (!JOB_ID_PATTERN.test(id)) throw new AppError("not_found", `no job ${id}`);
  const stub = c.env.JOBS.get(c.env.JOBS.idFromName(id));
  const stored = (await stub.get()) as StoredJob | null;
  if (!stored || stored.owner_id !== c.get("auth").ownerId) throw new AppError("not_found", `no job ${id}`);
  return { stored, stub };
}
