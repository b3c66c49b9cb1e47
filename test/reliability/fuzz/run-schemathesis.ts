/**
 * Property-based run of schemathesis against the served OpenAPI document, on a fresh
 * local stack: `npx tsx test/reliability/fuzz/run-schemathesis.ts [junit.xml]`.
 * Checks: not_a_server_error, status_code_conformance, response_schema_conformance,
 * content_type_conformance. Bounded by SCHEMATHESIS_MAX_EXAMPLES per operation (default 25)
 * and SCHEMATHESIS_MAX_TIME seconds (default 240); SCHEMATHESIS_SEED replays a run.
 * Exits with schemathesis' own status. Needs setup-schemathesis.sh first.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { stopStack } from "../../e2e/support/stack.js";
import { startFuzzStack } from "./fuzz-stack.js";

const HERE = import.meta.dirname;
const CHECKS = ["not_a_server_error", "status_code_conformance", "response_schema_conformance", "content_type_conformance"];

export async function runSchemathesis(junitPath: string): Promise<number> {
  const fuzz = await startFuzzStack();
  try {
    const seed = process.env.SCHEMATHESIS_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
    const args = [
      "run", `${fuzz.stack.edgeUrl}/v1/openapi.json`,
      "--header", `Authorization: Bearer ${fuzz.adminKey}`,
      "--checks", CHECKS.join(","),
      "--max-examples", process.env.SCHEMATHESIS_MAX_EXAMPLES ?? "25",
      "--max-time", process.env.SCHEMATHESIS_MAX_TIME ?? "240",
      "--seed", seed,
      "--workers", "2",
      "--request-timeout", "30",
      "--suppress-health-check", "all",
      "--report", "junit", "--report-junit-path", resolve(junitPath),
    ];
    console.log(`schemathesis: seed ${seed} (replay with SCHEMATHESIS_SEED=${seed}), against ${fuzz.stack.edgeUrl}`);
    return await new Promise<number>((done) => {
      const child = spawn(resolve(HERE, ".venv/bin/schemathesis"), args, {
        stdio: "inherit",
        env: { ...process.env, SCHEMATHESIS_HOOKS: "schemathesis_hooks", PYTHONPATH: HERE, NO_COLOR: "1" },
      });
      child.on("exit", (code) => done(code ?? 1));
    });
  } finally {
    await stopStack(fuzz.stack.stateDir);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runSchemathesis(process.argv[2] ?? ".state/schemathesis.xml").then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
