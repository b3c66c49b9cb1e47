import { rmSync, writeFileSync } from "node:fs";
import { ESLint } from "eslint";
import { afterAll, describe, expect, it } from "vitest";

// A file of its own inside tsconfig.node.json's reach, so the type-aware rules see it with types.
const probe = `test/node/lint-probe-${process.pid}.ts`;

describe("the lint rules npm test runs", () => {
  afterAll(() => rmSync(probe, { force: true }));

  it("refuse a floating promise, a switch missing a member of its union, unused code and a new non-null assertion", async () => {
    writeFileSync(
      probe,
      [
        'type Kind = "a" | "b";',
        "export function probe(kind: Kind, values: number[]): number {",
        "  Promise.resolve(1);",
        "  const unused = 2;",
        "  switch (kind) {",
        '    case "a":',
        "      return values[0]!;",
        "  }",
        "  return 0;",
        "}",
        "",
      ].join("\n"),
    );
    const results = await new ESLint().lintFiles([probe]);
    const rules = results.flatMap((r) => r.messages.map((m) => m.ruleId)).sort();
    expect(rules).toEqual([
      "@typescript-eslint/no-floating-promises",
      "@typescript-eslint/no-non-null-assertion",
      "@typescript-eslint/no-unused-vars",
      "@typescript-eslint/switch-exhaustiveness-check",
    ]);
  }, 120_000);
});
