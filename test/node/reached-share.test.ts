import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { addReachToJunit, reachedShare } from "../reliability/fuzz/reached-share.js";

const doc = { paths: { "/v1/jobs": { get: {}, post: {} }, "/v1/jobs/{id}": { get: {} } } };
// A line as schemathesis_hooks.py's after_call hook writes it.
const answer = (method: string, path: string, status: number) => JSON.stringify({ method, url: `http://127.0.0.1:1${path}`, status });

describe("the schemathesis run's reach per operation", () => {
  it("counts the answers that got past the key, the scope, a made-up id and the rate limit, per documented operation", () => {
    const dir = mkdtempSync(join(tmpdir(), "reach-"));
    writeFileSync(
      join(dir, "answers.jsonl"),
      [
        answer("GET", "/v1/jobs", 200),
        answer("GET", "/v1/jobs?x=1", 401),
        answer("POST", "/v1/jobs", 422),
        answer("GET", "/v1/jobs/job_1", 404),
        answer("GET", "/v1/jobs/job_2", 429),
        answer("PATCH", "/v1/jobs", 405),
      ].join("\n") + "\n",
    );
    expect(reachedShare(join(dir, "answers.jsonl"), doc)).toEqual([
      { operation: "GET /v1/jobs", answers: 2, reached: 1 },
      { operation: "GET /v1/jobs/{id}", answers: 2, reached: 0 },
      { operation: "POST /v1/jobs", answers: 1, reached: 1 },
    ]);
  });

  it("adds a test case per operation to the JUnit report, failed where the operation was never reached", () => {
    const dir = mkdtempSync(join(tmpdir(), "reach-"));
    const junit = join(dir, "j.xml");
    writeFileSync(
      junit,
      '<?xml version="1.0"?><testsuites><testsuite name="schemathesis" tests="3" failures="0" errors="0" skipped="0"><testcase name="a"/></testsuite></testsuites>',
    );
    addReachToJunit(junit, [
      { operation: "GET /v1/jobs", answers: 2, reached: 1 },
      { operation: "GET /v1/jobs/{id}", answers: 2, reached: 0 },
    ]);
    const xml = readFileSync(junit, "utf8");
    expect(xml).toContain('tests="5" failures="1"');
    expect(xml).toMatch(/<testcase name="reached: GET \/v1\/jobs\/\{id\}" classname="reach"><failure/);
  });
});
