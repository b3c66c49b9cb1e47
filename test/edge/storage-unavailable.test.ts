import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { JobObject } from "../../edge/src/durable-objects/job-object.js";
import { storageRetryAfterSeconds } from "../../edge/src/lib/storage-errors.js";
import { api, createKey, installPeer, multipartJob, tinyJob } from "./helpers.js";

/**
 * Storage that fails for a moment (the local runtime's SQLite out of memory, a Durable
 * Object overloaded or reset) is no server bug: the client is told to retry (503 with
 * Retry-After), never 500, and a retried job creation makes exactly one job.
 */
let peer: ReturnType<typeof installPeer>;
beforeEach(() => {
  peer = installPeer();
});
afterEach(() => {
  vi.restoreAllMocks();
  peer.restore();
});

describe("storage failures (pure)", () => {
  it("are told apart from bugs", () => {
    expect(storageRetryAfterSeconds(new Error("SQLITE_NOMEM: out of memory"))).toBe(1);
    // What a Worker sees of a job object that ran out of SQLite heap in the local runtime (seen by
    // infra/bench/sqlite-heap-probe): either the SQLite error, or workerd's opaque internal error.
    expect(storageRetryAfterSeconds(new Error("out of memory: SQLITE_NOMEM"))).toBe(1);
    expect(storageRetryAfterSeconds(new Error("internal error; reference = 4qelnfb51dht40tgna30gc1g"))).toBe(1);
    expect(storageRetryAfterSeconds(new Error("the internal error; reference = x was mine"))).toBeNull();
    expect(storageRetryAfterSeconds(new Error("Error: database is locked: SQLITE_BUSY"))).toBe(1);
    expect(storageRetryAfterSeconds(Object.assign(new Error("Network connection lost."), { retryable: true }))).toBe(1);
    expect(
      storageRetryAfterSeconds(Object.assign(new Error("Durable Object is overloaded. Too many requests queued."), { overloaded: true })),
    ).toBe(5);
    expect(storageRetryAfterSeconds(new TypeError("Cannot read properties of undefined"))).toBeNull();
    expect(storageRetryAfterSeconds("SQLITE_NOMEM")).toBeNull();
  });
});

describe("a job creation that meets a storage failure", () => {
  it("answers 503 temporarily_unavailable with Retry-After, and the same request sent again creates the job once", async () => {
    const { key } = await createKey(`o${crypto.randomUUID().slice(0, 8)}`);
    vi.spyOn(JobObject.prototype, "create").mockRejectedValueOnce(new Error("SQLITE_NOMEM: out of memory"));
    const headers = { "idempotency-key": "order-503" };
    const failed = await multipartJob(key, tinyJob(), undefined, headers);
    expect(failed.status).toBe(503);
    expect(failed.headers.get("content-type")).toBe("application/problem+json");
    expect(failed.headers.get("retry-after")).toBe("1");
    expect(((await failed.json()) as { code: string }).code).toBe("temporarily_unavailable");

    const retried = await multipartJob(key, tinyJob(), undefined, headers);
    expect(retried.status).toBe(201);
    const list = (await (await api("/v1/jobs", key)).json()) as { data: unknown[] };
    expect(list.data).toHaveLength(1);
  });
});
