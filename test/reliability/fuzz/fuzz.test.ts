import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopStack } from "../../e2e/support/stack.js";
import { startFuzzStack, type FuzzStack } from "./fuzz-stack.js";
import { formatReport, runFuzz } from "./run-fuzz.js";

/** CI size; `npx tsx scripts/reliability-fuzz.ts` runs 10,000 or more. FUZZ_SEED replays a run. */
const COUNT = Number(process.env.FUZZ_COUNT ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261126);

describe("fuzz: generated malformed requests against the real edge (wrangler dev)", () => {
  let fuzz: FuzzStack;

  beforeAll(async () => {
    fuzz = await startFuzzStack();
  });

  afterAll(async () => {
    if (fuzz) await stopStack(fuzz.stack.stateDir);
  });

  it(`${COUNT} requests: no 5xx, every refusal problem+json with a known code and the request id, every answer as the OpenAPI document declares`, async () => {
    console.log(`fuzz: seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    const report = await runFuzz({
      baseUrl: fuzz.stack.edgeUrl,
      apiKey: fuzz.stack.apiKey,
      adminKey: fuzz.adminKey,
      seed: SEED,
      count: COUNT,
    });
    console.log(formatReport(report));
    expect(report.count).toBe(COUNT);
    expect(report.failures.map((f) => `#${f.index} ${f.request} -> ${f.status}: ${f.problems.join("; ")}`)).toEqual([]);
    // The generator must reach every documented operation, with successes and refusals alike.
    const unreached = Object.entries(report.operations)
      .filter(([, statuses]) => Object.keys(statuses).length === 0)
      .map(([op]) => op);
    expect(unreached).toEqual([]);
    expect(Object.keys(report.byStatus).filter((s) => s.startsWith("2")).length).toBeGreaterThanOrEqual(4);
    expect(Object.keys(report.byCode).length).toBeGreaterThanOrEqual(10);
  });
});
