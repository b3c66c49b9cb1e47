import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import worker from "../../edge/src/index.js";

/** Runs the worker's queue handler on one batch, as the queue would. */
async function consume(queue: string, bodies: unknown[]) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, env as never, ctx);
  return getQueueResult(batch, ctx);
}

let errors: MockInstance<typeof console.error>;
beforeEach(() => {
  errors = vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => errors.mockRestore());
const errorLines = () => errors.mock.calls.map(([line]) => JSON.parse(String(line)) as { level: string; msg: string; queue?: string });

describe("queue consumers", () => {
  it("retries the messages of a queue it has no consumer for, and logs an error naming the queue", async () => {
    const result = await consume("ecomid-renamed", [{ job_id: "job_1", attempt: 1 }]);
    expect(result.ackAll).toBe(false);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryBatch.retry).toBe(true); // the test harness does not report the batch's delay
    expect(errorLines()).toContainEqual(expect.objectContaining({ level: "error", queue: "ecomid-renamed" }));
  });

  it.each(["ecomid-dispatch", "ecomid-dispatch-dlq", "ecomid-webhooks", "ecomid-webhooks-dlq", "ecomid-dispatch-staging"])(
    "acknowledges a malformed message on %s, with an error log, and retries nothing",
    async (queue) => {
      const result = await consume(queue, [{ job_id: 7 }]);
      expect(result.explicitAcks).toEqual(["m0"]);
      expect(result.retryMessages).toEqual([]);
      expect(result.retryBatch.retry).toBe(false);
      expect(errorLines()).toContainEqual(expect.objectContaining({ level: "error", msg: "queue message malformed; dropped", queue }));
    },
  );
});
