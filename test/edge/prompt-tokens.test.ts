import { describe, expect, it } from "vitest";
import { promptTokenCount } from "../../edge/src/jobs/prompt-tokens.js";
// Written with the Python `tokenizers` library from the bundle's tokenizer.json (gpu-function/test/goldens).
import goldens from "../../gpu-function/test/goldens/conditioning/tokenizer-cases.json" with { type: "json" };

describe("the edge's prompt token count (in workerd)", () => {
  it("matches the model bundle's tokenizer on every golden prompt (ids less the start and end tokens)", () => {
    expect(goldens.cases.length).toBeGreaterThan(5);
    for (const c of goldens.cases) expect(promptTokenCount(c.prompt), JSON.stringify(c.prompt)).toBe(c.ids.length - 2);
  });
});
