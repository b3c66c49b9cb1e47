import { ErrorCode } from "@ecomid/shared/api";
import { ConformanceChecker, type OpenApiDoc } from "./conformance.js";
import { prepareFixtures } from "./fixtures.js";
import { CaseGenerator, type FuzzCase, type LiveState } from "./generator.js";
import { Random } from "./random.js";
import { devServerGlitch } from "../support/dev-server-glitch.js";
import { setupFetch } from "../support/setup-fetch.js";
import { closeConnections, send, type RawRequest, type RawResponse } from "./send.js";

export interface FuzzOptions {
  baseUrl: string;
  apiKey: string;
  adminKey: string;
  seed: number;
  count: number;
  concurrency?: number;
  /** Progress lines; silent when absent. */
  log?: (line: string) => void;
}

export interface FuzzFailure {
  index: number;
  kind: string;
  note: string;
  request: string;
  status: number | null;
  problems: string[];
}

export interface FuzzReport {
  seed: number;
  count: number;
  seconds: number;
  byKind: Record<string, number>;
  byStatus: Record<string, number>;
  byCode: Record<string, number>;
  /** "METHOD /template" -> statuses seen, for every documented operation. */
  operations: Record<string, Record<string, number>>;
  failures: FuzzFailure[];
  /** Requests sent again because wrangler's dev server, not the worker, answered (see dev-server-glitch.ts). */
  devProxyRetries: number;
  /** The cases that met it, and the case sent just before on the same worker slot. */
  devProxyRetried: string[];
  /** Over-limit streamed uploads the server refused by closing the connection: before its answer, or while its body was read. */
  closedMidUpload: number;
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

const bump = (m: Record<string, number>, k: string) => void (m[k] = (m[k] ?? 0) + 1);

/**
 * Sends a request; a GET or HEAD that gets no answer at all is sent once more. When its hop to the
 * worker breaks (cloudflare/workers-sdk#14641), wrangler dev's proxy parks a GET or HEAD in a retry
 * queue instead of answering; twice in this project's runs one then had no answer in 60 s while
 * the stack answered every request around it. A worker that itself never answers fails the second
 * try too.
 */
async function sendHeldOnce(base: URL, request: RawRequest, onResend: () => void): Promise<RawResponse> {
  try {
    return await send(base, request);
  } catch (e) {
    const held = (request.method === "GET" || request.method === "HEAD") && e instanceof Error && e.message.startsWith("no answer within");
    if (!held) throw e;
    onResend();
    return await send(base, request);
  }
}

/** Runs `count` generated requests (case i is replayable from seed and i) and judges every answer. */
export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const base = new URL(o.baseUrl);
  const doc = (await (await setupFetch(new URL("/v1/openapi.json", base))).json()) as OpenApiDoc & Record<string, unknown>;
  const checker = new ConformanceChecker(doc, new Set(ErrorCode.options));
  const fixtures = await prepareFixtures(o.baseUrl, o.apiKey, o.adminKey);
  const live: LiveState = { createdJobs: [] };
  const generator = new CaseGenerator(doc as never, fixtures, live);
  const root = new Random(o.seed);
  const report: FuzzReport = {
    seed: o.seed,
    count: 0,
    seconds: 0,
    byKind: {},
    byStatus: {},
    byCode: {},
    operations: Object.fromEntries(generator.documented.map((k) => [k, {}])),
    failures: [],
    devProxyRetries: 0,
    devProxyRetried: [],
    closedMidUpload: 0,
  };
  const started = performance.now();
  let next = 0;

  const runOne = async (index: number) => {
    const c: FuzzCase = generator.generate(root.fork(index));
    const described = `${c.request.method} ${c.request.target.slice(0, 160)}`;
    bump(report.byKind, c.kind);
    let status: number | null = null;
    let problems: string[];
    try {
      let res = await sendHeldOnce(base, c.request, () => {
        report.devProxyRetries++;
        report.devProxyRetried.push(`#${index} ${c.kind} (no answer: held by the dev proxy) ${described.slice(0, 80)}`);
      });
      const fromDevProxy = (r: typeof res) =>
        devServerGlitch({
          status: r.status,
          method: c.request.method,
          requestId: r.headers["x-request-id"],
          contentType: r.headers["content-type"],
          body: r.body.toString("utf8"),
        }) !== null;
      // It comes in bursts: up to three sends, then the answer is judged like any other. Not for a
      // streamed over-limit upload: the worker refuses it before it ends, and the dev proxy, whose own
      // request to the worker then breaks on the unsent rest, reports that as a restart (judged below).
      for (let tries = 1; tries < 3 && !c.closeAllowed && fromDevProxy(res); tries++) {
        report.devProxyRetries++;
        report.devProxyRetried.push(`#${index} ${c.kind} (${c.note.slice(0, 60)}) ${described.slice(0, 80)}`);
        res = await send(base, c.request);
      }
      status = res.status;
      const sentIds = c.request.headers.filter(([k]) => k.toLowerCase() === "x-request-id").map(([, v]) => v);
      const echoed = sentIds.length === 1 && SAFE_REQUEST_ID.test(sentIds[0]!) ? sentIds[0] : undefined;
      const path = c.request.target.split("?")[0]!;
      if (c.closeAllowed && res.status === 413 && res.cutShort) {
        // The 413 arrived, then the server closed the connection on the rest of the upload,
        // taking the answer's body with it (RFC 9110 allows the close): no body left to judge.
        report.closedMidUpload++;
        problems = [];
      } else if (c.closeAllowed && fromDevProxy(res)) {
        // The worker refused the upload mid-stream (a multipart body refused on a part's headers);
        // only wrangler's dev proxy stands between, and it cannot pass an early answer on.
        report.closedMidUpload++;
        problems = [];
      } else
        problems = checker.check({
          method: c.request.method,
          path,
          status: res.status,
          headers: res.headers,
          body: res.body,
          ...(echoed ? { echoedRequestId: echoed } : {}),
        });
      bump(report.byStatus, String(res.status));
      const found = checker.operationFor(c.request.method, path);
      if (found) bump(report.operations[`${c.request.method} ${found.template}`]!, String(res.status));
      if (res.status >= 400 && (res.headers["content-type"] ?? "").startsWith("application/problem+json")) {
        try {
          bump(report.byCode, String((JSON.parse(res.body.toString("utf8")) as { code?: unknown }).code));
        } catch {
          // reported by the checker
        }
      }
      if (res.status === 201 && found?.template === "/v1/jobs" && live.createdJobs.length < 50) {
        const id = (JSON.parse(res.body.toString("utf8")) as { id?: string }).id;
        if (id) live.createdJobs.push(id);
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (c.closeAllowed && (code === "ECONNRESET" || code === "EPIPE")) {
        report.closedMidUpload++;
        problems = [];
      } else problems = [`no answer: ${e instanceof Error ? e.message : String(e)}`];
    }
    if (problems.length) report.failures.push({ index, kind: c.kind, note: c.note, request: described, status, problems });
    report.count++;
    if (o.log && report.count % 1000 === 0)
      o.log(
        `fuzz: ${report.count}/${o.count} requests, ${report.failures.length} failing, ${((performance.now() - started) / 1000).toFixed(0)} s`,
      );
  };

  try {
    await Promise.all(
      Array.from({ length: o.concurrency ?? 8 }, async () => {
        for (let i = next++; i < o.count; i = next++) await runOne(i);
      }),
    );
  } finally {
    closeConnections();
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/** A readable summary: counts per kind, status and code, and the first failures in full. */
export function formatReport(r: FuzzReport, maxFailures = 25): string {
  const line = (m: Record<string, number>) =>
    Object.entries(m)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
  const out = [
    `fuzz: seed ${r.seed}, ${r.count} requests in ${r.seconds.toFixed(1)} s (${(r.count / r.seconds).toFixed(0)}/s), ${r.failures.length} failing, ${r.devProxyRetries} sent again after an answer of the dev server, not the worker, ${r.closedMidUpload} over-limit streamed uploads refused by closing the connection`,
    `  kinds:    ${line(r.byKind)}`,
    `  statuses: ${line(r.byStatus)}`,
    `  codes:    ${line(r.byCode)}`,
    ...Object.entries(r.operations).map(([op, statuses]) => `  ${op.padEnd(58)} ${line(statuses) || "(none)"}`),
  ];
  for (const d of r.devProxyRetried.slice(0, 10)) out.push(`  sent again: ${d}`);
  for (const f of [...r.failures].sort((a, b) => a.index - b.index).slice(0, maxFailures))
    out.push(
      `  FAIL #${f.index} [${f.kind}: ${f.note.slice(0, 100)}] ${f.request} -> ${f.status ?? "no answer"}\n      ${f.problems.join("\n      ")}`,
    );
  if (r.failures.length > maxFailures) out.push(`  ... and ${r.failures.length - maxFailures} more`);
  return out.join("\n");
}
