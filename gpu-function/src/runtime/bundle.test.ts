import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ModelBundle } from "./bundle.js";
import { int64 } from "./tensor.js";

describe("ModelBundle", () => {
  it("opens the tiny bundle and runs a graph on CPU", async () => {
    const bundle = await ModelBundle.open("bundles/tiny", { provider: "cpu" });
    const clip = await bundle.graph("clip_g");
    expect(clip.provider).toBe("cpu");
    const out = await clip.run({ input_ids: int64(new Array(77).fill(49407), [1, 77]) });
    expect(out.text_embeds!.dims).toEqual([1, 16]);
    await bundle.release();
  });

  it("refuses a bundle whose graph was changed, naming the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bundle-"));
    cpSync("bundles/tiny", dir, { recursive: true });
    writeFileSync(join(dir, "graphs/resampler.onnx"), "tampered");
    await expect(ModelBundle.open(dir, { provider: "cpu" })).rejects.toThrow(/graphs\/resampler\.onnx/);
  });

  it("refuses feeds that do not match the graph's inputs", async () => {
    const bundle = await ModelBundle.open("bundles/tiny", { provider: "cpu" }, { skipHashes: true });
    const clip = await bundle.graph("clip_l");
    await expect(clip.run({ ids: int64([1], [1, 1]) })).rejects.toThrow(/missing inputs \[input_ids\] unexpected inputs \[ids\]/);
    await bundle.release();
  });
});
