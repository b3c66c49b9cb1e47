import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { referenceJobSpec, type ReferenceParameters } from "./reference-job.js";
import { referenceParameters, TINY_BUNDLE } from "./reference.js";
import { EcomidPipeline } from "../src/pipelines/ecomid.js";
import { ModelBundle } from "../src/runtime/bundle.js";

/** graphsInMemory "one" (a CPU rehearsal of a bundle whose graphs do not all fit in memory) computes the same job. */
const astronaut = new Uint8Array(readFileSync("test/fixtures/images/astronaut.png"));
const spec = referenceJobSpec(referenceParameters as unknown as ReferenceParameters, "dpm_2_karras", astronaut.byteLength);
const opened: ModelBundle[] = [];

async function run(graphsInMemory: "all" | "one", onStage?: (bundle: ModelBundle) => Promise<void>) {
  const bundle = await ModelBundle.open(TINY_BUNDLE, { provider: "cpu", intraOpThreads: 1, graphsInMemory }, { skipHashes: true });
  opened.push(bundle);
  const pipeline = await EcomidPipeline.load(bundle);
  return pipeline.run({ spec, references: [astronaut], keypointImage: null, intermediates: [] }, { onProgress: () => onStage?.(bundle) });
}

afterAll(async () => {
  for (const b of opened) await b.release();
});

describe("one graph in memory at a time", () => {
  it("gives the same image as every graph loaded, never holding two sessions", async () => {
    const loadedCounts: number[] = [];
    const one = await run("one", async (bundle) => void loadedCounts.push((await bundle.loadedGraphs()).length));
    const all = await run("all");
    expect(Buffer.from(one.outputs[0]!.bytes).equals(Buffer.from(all.outputs[0]!.bytes))).toBe(true);
    expect(loadedCounts.length).toBeGreaterThan(5);
    expect(Math.max(...loadedCounts)).toBe(1);
  });
});
