import { EcomidApiError, EcomidClient, EcomidTimeoutError } from "@ecomid/shared/sdk";
import { resolveConfig, requireKey } from "./config.js";
import type { CommandContext } from "./context.js";
import { EXIT, UsageError } from "./exit-codes.js";
import { generateCommand } from "./generate.js";
import { jobsCommand } from "./jobs.js";
import { keysCommand } from "./keys.js";
import { describeApiError } from "./messages.js";
import { USAGE } from "./usage.js";

const GLOBAL_FLAGS = new Set(["--base-url", "--api-key"]);

export interface RunIo {
  stdout: CommandContext["stdout"];
  stderr: CommandContext["stderr"];
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/** Runs one command line and returns its exit status; never throws. */
export async function run(
  argv: string[],
  env: Record<string, string | undefined>,
  io: RunIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort(new Error("interrupted"));
  if (!io.signal) process.once("SIGINT", onSigint);
  const signal = io.signal ?? interrupt.signal;
  try {
    const { command, rest, flags, json } = splitGlobals(argv);
    if (!command || command === "help" || flags.help) {
      io.stdout.write(USAGE);
      return command || flags.help ? EXIT.ok : EXIT.usage;
    }
    const config = resolveConfig(flags, env);
    const client = new EcomidClient({ baseUrl: config.baseUrl, apiKey: requireKey(config), ...(io.fetch ? { fetch: io.fetch } : {}) });
    const ctx: CommandContext = { client, stdout: io.stdout, stderr: io.stderr, signal, json, defaultModel: env.ECOMID_MODEL };
    if (command === "generate") return await generateCommand(ctx, rest);
    if (command === "jobs") return await jobsCommand(ctx, rest);
    if (command === "keys") return await keysCommand(ctx, rest);
    throw new UsageError(`unknown command "${command}"`);
  } catch (e) {
    return report(e, io, signal, env);
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}

/** Pulls the global flags out wherever they appear, so `ecomid jobs list --api-key k` works too. */
export function splitGlobals(argv: string[]) {
  const flags: { "base-url"?: string; "api-key"?: string; help?: boolean } = {};
  let json = false;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] =
      arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    if (GLOBAL_FLAGS.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      flags[name.slice(2) as "base-url" | "api-key"] = value;
    } else if (arg === "--json") json = true;
    else if (arg === "--help" || arg === "-h") flags.help = true;
    else rest.push(arg);
  }
  const [command, ...args] = rest;
  return { command, rest: args, flags, json };
}

function report(e: unknown, io: RunIo, signal: AbortSignal, env: Record<string, string | undefined>): number {
  const line = (text: string) => io.stderr.write(`ecomid: ${text}\n`);
  if (e instanceof UsageError) {
    line(`${e.message} (see ecomid --help)`);
    return EXIT.usage;
  }
  // parseArgs throws TypeErrors with codes such as ERR_PARSE_ARGS_UNKNOWN_OPTION.
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
    line(`${(e as Error).message} (see ecomid --help)`);
    return EXIT.usage;
  }
  if (e instanceof EcomidApiError) {
    line(describeApiError(e));
    return EXIT.apiError;
  }
  if (e instanceof EcomidTimeoutError) {
    line(`${e.message}; the job keeps running: follow it with \`ecomid jobs wait <id>\``);
    return EXIT.timeout;
  }
  if (signal.aborted) {
    line("interrupted; a created job keeps running: `ecomid jobs wait <id>` or `ecomid jobs cancel <id>`");
    return EXIT.interrupted;
  }
  // undici reports connection failures as TypeError("fetch failed") with the reason in `cause`.
  const cause = (e as { cause?: { code?: string; message?: string } } | null)?.cause;
  if (e instanceof TypeError && e.message === "fetch failed") {
    line(
      `cannot reach the API (${cause?.code ?? cause?.message ?? e.message}); is it running? Start a local one with \`npm start\`, or set --base-url / ECOMID_BASE_URL${env.ECOMID_BASE_URL ? ` (now ${env.ECOMID_BASE_URL})` : ""}`,
    );
    return EXIT.unexpected;
  }
  line(e instanceof Error ? e.message : String(e));
  return EXIT.unexpected;
}
