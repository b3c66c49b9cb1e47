import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { CommandContext } from "./context.js";
import { EXIT, UsageError } from "./exit-codes.js";
import { generateOptions, planGenerate } from "./generate-args.js";
import { reportFinished, waitWithProgress } from "./job-output.js";

export async function generateCommand(ctx: CommandContext, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: generateOptions, strict: true, allowPositionals: false });
  const plan = planGenerate(values);

  const files: Record<string, Uint8Array> = {};
  for (const [part, path] of Object.entries(plan.files)) {
    files[part] = await readFile(path).catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read ${path}: ${e.code === "ENOENT" ? "no such file" : e.message}`);
    });
  }
  if (!plan.modelGiven) {
    const model = ctx.defaultModel ?? (await localFixtureModel(ctx));
    if (model) plan.request.model = model;
  }

  const job = await ctx.client.createJob(plan.request, { files, ...(plan.idempotencyKey ? { idempotencyKey: plan.idempotencyKey } : {}) });
  ctx.stderr.write(
    `job ${job.id} created (model ${job.model}, ${job.input.width}x${job.input.height}, ${job.input.steps} steps, seed ${job.seed})\n`,
  );
  if (!plan.wait) {
    ctx.stdout.write(ctx.json ? `${JSON.stringify(job, null, 2)}\n` : `${job.id}\n`);
    return EXIT.ok;
  }
  const final = job.status === "succeeded" ? job : await waitWithProgress(ctx, job.id, plan.timeoutMs);
  return reportFinished(ctx, final, plan.out);
}

/**
 * A local stack (npm start) serves only the tiny fixture bundle, although it lists every
 * model; on a loopback base URL the CLI therefore picks the fixture model by default.
 * Elsewhere the server's default model applies.
 */
async function localFixtureModel(ctx: CommandContext): Promise<string | undefined> {
  const host = new URL(ctx.client.baseUrl).hostname;
  if (!["127.0.0.1", "localhost", "[::1]"].includes(host)) return undefined;
  return (await ctx.client.listModels()).find((m) => m.fixture)?.id;
}
