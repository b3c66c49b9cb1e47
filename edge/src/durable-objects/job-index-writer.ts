import { DurableObject } from "cloudflare:workers";
import { deleteJobRowStatements, upsertJobRowStatement } from "../db/jobs.js";
import type { AppBindings } from "../env.js";
import type { StoredJob } from "../jobs/types.js";

/** The one writer of the listing index; D1 has a single primary, so one funnel loses nothing. */
export const JOB_INDEX_WRITER_NAME = "job-index";

/** Rows per D1 batch: one transaction each, well inside D1's statement limits. */
const MAX_ROWS_PER_BATCH = 100;

type IndexChange = { kind: "upsert"; job: StoredJob } | { kind: "delete"; jobId: string };

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit for the jobs listing index in D1. Job objects hand their row here
 * instead of writing D1 themselves: while one batch is being written, every change
 * that arrives waits and goes out in the next batch, one D1 transaction for many
 * jobs. Nothing is delayed on purpose, so an idle index writes at once; under load
 * D1 sees a few large writes instead of one per job. Each caller's promise settles
 * when its change is committed (or the batch failed, so it can retry); nothing here
 * is durable on its own, the job objects are.
 */
export class JobIndexWriter extends DurableObject<AppBindings> {
  private pending = new Map<string, { change: IndexChange; waiters: Waiter[] }>();
  private writing: Promise<void> | null = null;

  upsert(job: StoredJob): Promise<void> {
    return this.enqueue(job.core.id, { kind: "upsert", job });
  }

  remove(jobId: string): Promise<void> {
    return this.enqueue(jobId, { kind: "delete", jobId });
  }

  /** Resolves once every change received before this call is in D1: listings read their writes. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing.catch(() => undefined);
  }

  private enqueue(jobId: string, change: IndexChange): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // A newer change of the same job replaces the older one still waiting: it carries the whole row.
      const waiting = this.pending.get(jobId);
      this.pending.set(jobId, { change, waiters: [...(waiting?.waiters ?? []), { resolve, reject }] });
      this.writing ??= this.drain().finally(() => (this.writing = null));
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0) {
      const taken = [...this.pending.entries()].slice(0, MAX_ROWS_PER_BATCH);
      for (const [jobId] of taken) this.pending.delete(jobId);
      const db = this.env.DB;
      const statements = taken.flatMap(([, { change }]) =>
        change.kind === "upsert" ? [upsertJobRowStatement(db, change.job)] : deleteJobRowStatements(db, change.jobId),
      );
      try {
        await db.batch(statements);
        for (const [, { waiters }] of taken) for (const w of waiters) w.resolve();
      } catch (e) {
        for (const [, { waiters }] of taken) for (const w of waiters) w.reject(e);
      }
    }
  }
}

/** The index writer's stub; one per environment. */
export function jobIndexWriter(env: AppBindings): DurableObjectStub<JobIndexWriter> {
  return env.JOB_INDEX.get(env.JOB_INDEX.idFromName(JOB_INDEX_WRITER_NAME));
}
