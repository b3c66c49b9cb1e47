import { existsSync, readFileSync, writeFileSync } from "node:fs";

/**
 * Per documented operation, how many of schemathesis' requests reached the operation's
 * own logic: answers other than 401, 403, 404 and 429, which the key, the scope, a
 * made-up id or a rate limit give before it. An operation that never gets there was
 * tested for its refusals only, and fails the run.
 */
export interface Reach {
  operation: string;
  answers: number;
  reached: number;
}

const NOT_REACHED = new Set([401, 403, 404, 429]);

/** One line of the answers log schemathesis_hooks.py writes (its after_call hook). */
interface Answer {
  method: string;
  url: string;
  status: number;
}

export function reachedShare(answersLogPath: string, doc: { paths: Record<string, Record<string, unknown>> }): Reach[] {
  const templates = Object.entries(doc.paths).flatMap(([template, ops]) =>
    Object.keys(ops).map((method) => ({ method: method.toUpperCase(), template, parts: template.split("/") })),
  );
  const reach = new Map(
    templates.map((t) => [`${t.method} ${t.template}`, { operation: `${t.method} ${t.template}`, answers: 0, reached: 0 }]),
  );
  const answers = existsSync(answersLogPath) ? readFileSync(answersLogPath, "utf8").split("\n").filter(Boolean) : [];
  for (const line of answers) {
    const { method, url, status } = JSON.parse(line) as Answer;
    const parts = new URL(url).pathname.split("/");
    const t = templates.find(
      (c) =>
        c.method === method &&
        c.parts.length === parts.length &&
        c.parts.every((p, i) => (p.startsWith("{") ? parts[i] !== "" : p === parts[i])),
    );
    const r = t && reach.get(`${t.method} ${t.template}`);
    if (!r) continue;
    r.answers++;
    if (!NOT_REACHED.has(status)) r.reached++;
  }
  return [...reach.values()].sort((a, b) => a.operation.localeCompare(b.operation));
}

export function formatReach(rows: Reach[]): string {
  const lines = rows.map(
    (r) =>
      `  ${r.operation.padEnd(62)} ${String(r.reached).padStart(6)} of ${String(r.answers).padStart(6)}  ${r.answers ? ((100 * r.reached) / r.answers).toFixed(0).padStart(3) : "  -"}%${r.reached ? "" : "   NEVER REACHED"}`,
  );
  return ["share of answers that reached the operation (not 401/403/404/429):", ...lines].join("\n");
}

/** Adds one test case per operation to schemathesis' JUnit report, failed where the operation was never reached. */
export function addReachToJunit(junitPath: string, rows: Reach[]): void {
  const xml = readFileSync(junitPath, "utf8");
  const cases = rows
    .map((r) => {
      const name = `reached: ${r.operation}`.replace(/[<>&"]/g, "");
      return r.reached
        ? `<testcase name="${name}" classname="reach"/>`
        : `<testcase name="${name}" classname="reach"><failure message="never reached the operation: ${r.answers} answers, all 401/403/404/429"/></testcase>`;
    })
    .join("");
  const failed = rows.filter((r) => !r.reached).length;
  // Into the first test suite, whose counts the npm test summary reads.
  const updated = xml.replace(/<testsuite\b([^>]*)>/, (_whole, attrs: string) => {
    const bump = (name: string, by: number) => (a: string) =>
      a.replace(new RegExp(`${name}="(\\d+)"`), (_m, n: string) => `${name}="${Number(n) + by}"`);
    const next = bump("failures", failed)(bump("tests", rows.length)(attrs));
    return `<testsuite${next}>${cases}`;
  });
  writeFileSync(junitPath, updated);
}
