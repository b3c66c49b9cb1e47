import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MANIFEST_SCHEMA_PATH, manifestJsonSchemaText } from "./export-json-schema.js";

describe("manifest.schema.json", () => {
  it("is what the zod schema exports today (regenerate with npx tsx shared/src/manifest/export-json-schema.ts)", () => {
    expect(readFileSync(MANIFEST_SCHEMA_PATH, "utf8")).toBe(manifestJsonSchemaText());
  });
});
