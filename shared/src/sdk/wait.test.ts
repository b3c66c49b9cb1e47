import { describe, expect, it } from "vitest";
import type { JobEvent } from "../api/job.js";
import { EcomidTimeoutError } from "./errors.js";
import { fakeJob, problem, sendJson, sseFrame, fakeApiPerTest } from "./fake-api.test-util.js";

// The client's own retries are off: these tests count and time waitForJob's requests.
const setup = fakeApiPerTest("", { retry: { maxRetries: 0 } });

const sseHeaders = { "content-type": "text/event-stream" };

describe("waitForJob over the event stream", () => {
  it("resumes with Last-Event-ID after a drop, delivers each event once, and returns the final job", async () => {
    let connections = 0;
    const { client, fake } = await setup((req, res) => {
      if (req.url.endsWith("/events")) {
        connections++;
        res.writeHead(200, sseHeaders);
        if (connections === 1) {
          // Two events, then the connection drops mid-frame.
          res.write("retry: 10\n\n" + sseFrame(1, "job.queued") + sseFrame(2, "job.started"));
          res.end('id: 3\nevent: job.progress\ndata: {"seq');
        } else {
          // The server replays from after Last-Event-ID; an old frame repeated must be ignored.
          res.end(
            sseFrame(2, "job.started") +
              sseFrame(3, "job.progress", { progress: { stage: "generating", step: 1, total_steps: 4 } }) +
              sseFrame(4, "job.succeeded"),
          );
        }
        return;
      }
      sendJson(res, 200, fakeJob({ status: connections >= 2 ? "succeeded" : "running" }));
    });
    const events: JobEvent[] = [];
    const job = await client.waitForJob("job_1", { onEvent: (e) => events.push(e) });
    expect(job.status).toBe("succeeded");
    expect(events.map((e) => e.sequence)).toEqual([1, 2, 3, 4]);
    const streams = fake.requests.filter((r) => r.url.endsWith("/events"));
    expect(streams[0]!.headers["last-event-id"]).toBeUndefined();
    expect(streams[1]!.headers["last-event-id"]).toBe("2");
    expect(streams[0]!.headers.authorization).toBe("Bearer ek_test_abc");
  });

  it("returns a job that ended while the stream was away", async () => {
    const { client } = await setup((req, res) => {
      if (req.url.endsWith("/events")) return res.writeHead(200, sseHeaders).end(sseFrame(1, "job.queued"));
      sendJson(res, 200, fakeJob({ status: "failed", error: { code: "face_not_detected", message: "no face", retryable: false } }));
    });
    expect((await client.waitForJob("job_1")).error?.code).toBe("face_not_detected");
  });

  it("falls back to polling when the stream keeps failing", async () => {
    let polls = 0;
    const { client, fake } = await setup((req, res) => {
      if (req.url.endsWith("/events")) return sendJson(res, 503, problem(503, "internal_error", "busy"), { "retry-after": "0" });
      polls++;
      sendJson(res, 200, fakeJob({ status: polls >= 5 ? "succeeded" : "running" }));
    });
    const job = await client.waitForJob("job_1", { pollMs: 5, maxStreamFailures: 2 });
    expect(job.status).toBe("succeeded");
    expect(fake.requests.filter((r) => r.url.endsWith("/events"))).toHaveLength(2);
  });

  it("does not retry a refusal that waiting cannot fix", async () => {
    const { client } = await setup((_req, res) => sendJson(res, 404, problem(404, "not_found", "no job job_1")));
    await expect(client.waitForJob("job_1")).rejects.toMatchObject({ code: "not_found", status: 404 });
  });
});

describe("waitForJob by polling", () => {
  it("backs off exponentially and honours Retry-After on 429", async () => {
    const times: number[] = [];
    const { client } = await setup((_req, res) => {
      times.push(Date.now());
      if (times.length === 2) return sendJson(res, 429, problem(429, "rate_limited", "slow down"), { "retry-after": "1" });
      sendJson(res, 200, fakeJob({ status: times.length >= 4 ? "succeeded" : "running" }));
    });
    const job = await client.waitForJob("job_1", { stream: false, pollMs: 20 });
    expect(job.status).toBe("succeeded");
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(15); // first delay: 20 ms
    expect(gaps[1]).toBeGreaterThanOrEqual(950); // Retry-After: 1 s instead of 40 ms
    expect(gaps[2]).toBeGreaterThanOrEqual(70); // then 80 ms: the backoff kept growing
    expect(gaps[2]).toBeLessThan(900);
  });

  it("gives up after timeoutMs with EcomidTimeoutError", async () => {
    const { client } = await setup((_req, res) => sendJson(res, 200, fakeJob({ status: "running" })));
    await expect(client.waitForJob("job_1", { stream: false, pollMs: 10, timeoutMs: 100 })).rejects.toBeInstanceOf(EcomidTimeoutError);
  });

  it("stops when the caller aborts, with the caller's reason", async () => {
    const { client } = await setup((_req, res) => sendJson(res, 200, fakeJob({ status: "running" })));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("user stop")), 50);
    await expect(client.waitForJob("job_1", { stream: false, pollMs: 10, signal: controller.signal })).rejects.toThrow("user stop");
  });
});
