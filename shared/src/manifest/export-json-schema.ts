/**
 * Writes shared/json-schema/manifest.schema.json from the zod schema, for the
 * Python exporter (jsonschema). Run: npx tsx shared/src/manifest/export-json-schema.ts
 * With --check it exits 1 when the committed file is out of date.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ModelBundleManifest } from "./manifest.js";

export const MANIFEST_SCHEMA_PATH = join(import.meta.dirname, "../../json-schema/manifest.schema.json");

/** The JSON text of the schema; cross-field refinements are not expressible and are omitted. */
export function manifestJsonSchemaText(): string {
  const schema = z.toJSONSchema(ModelBundleManifest, { target: "draft-2020-12", unrepresentable: "throw" });
  return `${JSON.stringify(schema, null, 2)}\n`;
}

function main(): void {
  const text = manifestJsonSchemaText();
  if (process.argv.includes("--check")) {
    const committed = readFileSync(MANIFEST_SCHEMA_PATH, "utf8");
    if (committed !== text) {
      console.error(`${MANIFEST_SCHEMA_PATH} is out of date: run npx tsx shared/src/manifest/export-json-schema.ts`);
      process.exit(1);
    }
    console.log("manifest.schema.json is up to date");
    return;
  }
  writeFileSync(MANIFEST_SCHEMA_PATH, text);
  console.log(`wrote ${MANIFEST_SCHEMA_PATH}`);
}

if (process.argv[1] && import.meta.filename === process.argv[1]) main();
