/**
 * The fuzz suite at full size: `npx tsx scripts/reliability-fuzz.ts [--schemathesis]`.
 * FUZZ_COUNT generated requests (default 10,000) with FUZZ_SEED (random by default,
 * printed) against a fresh local stack; with --schemathesis, then schemathesis against
 * the served document (test/reliability/fuzz/setup-schemathesis.sh first). Exits 1 on
 * any failing answer.
 */
import { stopStack } from "../test/e2e/support/stack.js";
import { startFuzzStack } from "../test/reliability/fuzz/fuzz-stack.js";
import { formatReport, runFuzz } from "../test/reliability/fuzz/run-fuzz.js";
import { runSchemathesis } from "../test/reliability/fuzz/run-schemathesis.js";

const COUNT = Number(process.env.FUZZ_COUNT ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

async function main(): Promise<void> {
  console.log(`fuzz: seed ${SEED} (replay with FUZZ_SEED=${SEED}), ${COUNT} requests`);
  const fuzz = await startFuzzStack();
  try {
    const report = await runFuzz({
      baseUrl: fuzz.stack.edgeUrl,
      apiKey: fuzz.stack.apiKey,
      adminKey: fuzz.adminKey,
      seed: SEED,
      count: COUNT,
      log: console.log,
    });
    console.log(formatReport(report, 100));
    if (report.failures.length) process.exitCode = 1;
  } finally {
    await stopStack(fuzz.stack.stateDir);
  }
  if (process.argv.includes("--schemathesis")) {
    const code = await runSchemathesis(".state/schemathesis-full.xml");
    if (code !== 0) process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
