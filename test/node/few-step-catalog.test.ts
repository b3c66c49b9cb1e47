import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { MODEL_CATALOG } from "../../edge/src/config/models.js";

// The exporter's presets (infra/export/ecomid_export/real/few_step_presets.py, which cite the Lightning and Turbo
// model cards) are what a few-step bundle's manifest carries; /v1/models must offer the same defaults and limits,
// or the edge would accept jobs the GPU function refuses.
const presets = JSON.parse(
  execFileSync(
    "infra/export/.venv/bin/python",
    ["-c", "import json; from ecomid_export.real.few_step_presets import PRESETS; print(json.dumps(PRESETS))"],
    { env: { ...process.env, PYTHONPATH: "infra/export" }, encoding: "utf8" },
  ),
) as Record<string, { defaults: Record<string, unknown>; limits: { max_steps: number; samplers: string[] } }>;

describe("the few-step models of /v1/models", () => {
  it.each([
    ["ecomid-sdxl-lightning-4step", "lightning-4step"],
    ["ecomid-sdxl-turbo", "turbo"],
  ])("%s has the defaults and limits of the exporter's %s preset", (id, preset) => {
    const model = MODEL_CATALOG.find((m) => m.id === id);
    const expected = presets[preset];
    expect(model, id).toBeDefined();
    expect(expected, preset).toBeDefined();
    expect(model?.defaults).toMatchObject(expected?.defaults ?? {});
    expect(model?.limits).toMatchObject({ max_steps: expected?.limits.max_steps, samplers: expected?.limits.samplers });
  });
});
