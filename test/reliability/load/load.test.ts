import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopStack } from "../../e2e/support/stack.js";
import { formatLoadReport, runLoad, startLoadStack, type LoadStack } from "./load-driver.js";

/** CI size; `npx tsx scripts/bench-load.ts` runs 32 clients for a minute. */
const CLIENTS = 8;
const SECONDS = 15;
const GPU_CLIENTS = 2;

describe("load: concurrent clients submit and poll jobs on the real stack", () => {
  let load: LoadStack;

  beforeAll(async () => {
    load = await startLoadStack(4);
  });

  afterAll(async () => {
    if (load) await stopStack(load.stack.stateDir);
  });

  it(`${CLIENTS} clients (${GPU_CLIENTS} needing the GPU) over 4 keys for ${SECONDS} s: every answer 2xx or a 429 honoured, every job terminal and succeeded`, async () => {
    const report = await runLoad({
      baseUrl: load.stack.edgeUrl,
      keys: load.keys,
      uploads: load.uploads,
      clients: CLIENTS,
      seconds: SECONDS,
      gpuClients: GPU_CLIENTS,
    });
    console.log(formatLoadReport(report));
    expect(report.errors).toEqual([]);
    expect(report.notTerminal).toEqual([]);
    expect(report.submitted).toBeGreaterThan(0);
    expect(report.terminal.succeeded).toBe(report.submitted);
    expect(report.served.gpu).toBeGreaterThan(0);
    expect(report.served.cache).toBeGreaterThan(0);
  });
});
