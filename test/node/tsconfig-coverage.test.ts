import { execFileSync } from "node:child_process";
import { relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * `npm run typecheck` checks the program of each tsconfig; a TypeScript file in neither is never
 * type-checked at all. Every file the repository holds (tracked or new, not ignored) must be in the
 * right program: the edge and its workerd tests in tsconfig.json (Workers types), the rest in
 * tsconfig.node.json (Node types).
 */
const ROOT = resolve(import.meta.dirname, "../..");
const TYPESCRIPT = /\.(ts|mts|cts|tsx)$/;
const WORKERS_ZONE = /^(edge|test\/edge)\//;

function repositoryTypeScriptFiles(): string[] {
  const listed = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  return listed
    .split("\0")
    .filter((path) => TYPESCRIPT.test(path) && !/(^|\/)(node_modules|dist|\.venv)\//.test(path))
    .filter((path) => !isDeletedInWorkTree(path));
}

let deleted: Set<string> | null = null;
function isDeletedInWorkTree(path: string): boolean {
  deleted ??= new Set(execFileSync("git", ["ls-files", "--deleted", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0"));
  return deleted.has(path);
}

function programFiles(tsconfig: string): Set<string> {
  const tsc = resolve(ROOT, "node_modules/typescript/bin/tsc");
  const out = execFileSync(process.execPath, [tsc, "--listFilesOnly", "-p", tsconfig], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  return new Set(
    out
      .split("\n")
      .filter(Boolean)
      .map((file) => relative(ROOT, file)),
  );
}

describe("the tsconfigs cover every TypeScript file", () => {
  const files = repositoryTypeScriptFiles();
  const workers = programFiles("tsconfig.json");
  const node = programFiles("tsconfig.node.json");

  it("finds the repository's files (the listing itself works)", () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files).toContain("gpu-function/src/server/main.ts");
    expect(files).toContain("edge/src/index.ts");
  });

  it("leaves no file out of every program", () => {
    expect(files.filter((file) => !workers.has(file) && !node.has(file))).toEqual([]);
  });

  it("checks the edge and its workerd tests with Workers types, and every other file with Node types", () => {
    expect(files.filter((file) => WORKERS_ZONE.test(file) && !workers.has(file))).toEqual([]);
    expect(files.filter((file) => !WORKERS_ZONE.test(file) && !node.has(file))).toEqual([]);
  });
});
