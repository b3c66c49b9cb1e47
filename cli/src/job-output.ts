import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Job } from "@ecomid/shared/sdk";
import type { CommandContext } from "./context.js";
import { EXIT } from "./exit-codes.js";
import { describeJobFailure } from "./messages.js";
import { ProgressBar } from "./progress.js";

const EXTENSIONS: Record<string, string> = { "image/webp": "webp", "image/png": "png", "image/jpeg": "jpg" };

/** Follows the job with a progress bar on stderr until it ends. */
export async function waitWithProgress(ctx: CommandContext, id: string, timeoutMs: number | undefined): Promise<Job> {
  const bar = new ProgressBar(ctx.stderr);
  try {
    return await ctx.client.waitForJob(id, {
      onEvent: bar.onEvent,
      onPoll: bar.onPoll,
      signal: ctx.signal,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
  } finally {
    bar.finish();
  }
}

/**
 * Saves each output as <job>-<index>.<ext>, each intermediate as <job>-<kind>.<ext>,
 * and the job itself (seeds, similarities, faces, timings) as <job>.json.
 * Returns the paths written.
 */
export async function saveOutputs(ctx: CommandContext, job: Job, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const output of job.output) {
    const { bytes, contentType } = await ctx.client.downloadOutput(job.id, output.index);
    const path = join(dir, `${job.id}-${output.index}.${EXTENSIONS[contentType] ?? EXTENSIONS[output.content_type] ?? "bin"}`);
    await writeFile(path, bytes);
    written.push(path);
  }
  for (const item of job.intermediates) {
    // Intermediates come as signed URLs: the signature, not the API key, grants access.
    const response = await fetch(new URL(item.url, ctx.client.baseUrl), { signal: ctx.signal });
    if (!response.ok) throw new Error(`could not download the ${item.kind} intermediate: HTTP ${response.status}`);
    const path = join(dir, `${job.id}-${item.kind}.${EXTENSIONS[item.content_type] ?? "bin"}`);
    await writeFile(path, new Uint8Array(await response.arrayBuffer()));
    written.push(path);
  }
  const meta = join(dir, `${job.id}.json`);
  await writeFile(meta, `${JSON.stringify(job, null, 2)}\n`);
  written.push(meta);
  return written;
}

/** Reports a finished job; returns the exit status it deserves. */
export async function reportFinished(ctx: CommandContext, job: Job, outDir: string | undefined): Promise<number> {
  if (job.status !== "succeeded") {
    if (ctx.json) ctx.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
    ctx.stderr.write(`${describeJobFailure(job)}\n`);
    return EXIT.jobFailed;
  }
  const similarities = job.output.map((o) => (o.identity_similarity === null ? "n/a" : o.identity_similarity.toFixed(3))).join(", ");
  const took = job.metrics.total_ms !== null ? ` in ${(job.metrics.total_ms / 1000).toFixed(1)} s` : "";
  ctx.stderr.write(
    `job ${job.id} succeeded${job.cached ? " (cached)" : ""}${took}; seed ${job.seed}; identity similarity ${similarities}\n`,
  );
  if (outDir !== undefined) {
    const paths = await saveOutputs(ctx, job, outDir);
    if (ctx.json) ctx.stdout.write(`${JSON.stringify({ job: job.id, files: paths }, null, 2)}\n`);
    else for (const p of paths) ctx.stdout.write(`${p}\n`);
  } else if (ctx.json) {
    ctx.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
  }
  return EXIT.ok;
}
