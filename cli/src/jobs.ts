import { parseArgs } from "node:util";
import type { Job, JobStatus } from "@ecomid/shared/sdk";
import { JobStatus as JobStatusSchema } from "@ecomid/shared/api";
import type { CommandContext } from "./context.js";
import { EXIT, UsageError } from "./exit-codes.js";
import { reportFinished, waitWithProgress } from "./job-output.js";

export async function jobsCommand(ctx: CommandContext, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "list":
      return list(ctx, rest);
    case "get":
      return get(ctx, rest);
    case "cancel":
      return cancel(ctx, rest);
    case "delete":
      return remove(ctx, rest);
    case "wait":
      return wait(ctx, rest);
    default:
      throw new UsageError(sub ? `unknown jobs command "${sub}"` : "jobs needs a command: list, get, cancel, delete or wait");
  }
}

function oneId(args: string[], what: string): string {
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError(`jobs ${what} needs exactly one job id (job_...)`);
  return positionals[0]!;
}

async function list(ctx: CommandContext, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { status: { type: "string" }, limit: { type: "string" }, all: { type: "boolean" }, "updated-after": { type: "string" } },
  });
  const status = values.status === undefined ? undefined : JobStatusSchema.safeParse(values.status);
  if (status && !status.success) throw new UsageError(`--status must be one of ${JobStatusSchema.options.join(", ")}`);
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError("--limit must be a positive whole number");
  const params = {
    ...(status ? { status: status.data as JobStatus } : {}),
    ...(values["updated-after"] ? { updated_after: values["updated-after"] } : {}),
    limit: Math.min(limit, 100),
  };
  const jobs: Job[] = [];
  for await (const job of ctx.client.listJobs(params)) {
    jobs.push(job);
    if (!values.all && jobs.length >= limit) break;
  }
  if (ctx.json) ctx.stdout.write(`${JSON.stringify(jobs, null, 2)}\n`);
  else for (const j of jobs) ctx.stdout.write(`${formatRow(j)}\n`);
  return EXIT.ok;
}

export function formatRow(job: Job): string {
  const prompt = job.input.prompt.length > 40 ? `${job.input.prompt.slice(0, 39)}…` : job.input.prompt;
  return [job.id, job.status.padEnd(9), job.model, job.created_at, JSON.stringify(prompt)].join("  ");
}

async function get(ctx: CommandContext, args: string[]): Promise<number> {
  ctx.stdout.write(`${JSON.stringify(await ctx.client.getJob(oneId(args, "get")), null, 2)}\n`);
  return EXIT.ok;
}

async function cancel(ctx: CommandContext, args: string[]): Promise<number> {
  const job = await ctx.client.cancelJob(oneId(args, "cancel"));
  ctx.stdout.write(ctx.json ? `${JSON.stringify(job, null, 2)}\n` : `${job.id} ${job.status}\n`);
  return EXIT.ok;
}

async function remove(ctx: CommandContext, args: string[]): Promise<number> {
  const id = oneId(args, "delete");
  await ctx.client.deleteJob(id);
  ctx.stdout.write(`${id} deleted\n`);
  return EXIT.ok;
}

async function wait(ctx: CommandContext, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { out: { type: "string", short: "o" }, timeout: { type: "string" } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError("jobs wait needs exactly one job id (job_...)");
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout) * 1000;
  if (timeout !== undefined && !(timeout > 0)) throw new UsageError("--timeout must be a positive number of seconds");
  const job = await waitWithProgress(ctx, positionals[0]!, timeout);
  return reportFinished(ctx, job, values.out);
}
