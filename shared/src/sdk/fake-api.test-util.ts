import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach } from "vitest";
import type { Job } from "../api/job.js";
import { EcomidClient, type EcomidClientOptions } from "./client.js";

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

export type FakeHandler = (req: SeenRequest, res: ServerResponse) => unknown;

/** A node:http stand-in for the API on 127.0.0.1, recording every request it sees. */
export async function startFakeApi(handler: FakeHandler) {
  const requests: SeenRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const seen = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) };
    requests.push(seen);
    try {
      await handler(seen, res);
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res
    .writeHead(status, { "content-type": status >= 400 ? "application/problem+json" : "application/json", ...headers })
    .end(JSON.stringify(body));
}

export function problem(status: number, code: string, detail: string, extra: Record<string, unknown> = {}) {
  return { type: `https://docs.ecomid.dev/errors/${code}`, title: "Error", status, detail, code, request_id: "req_test", ...extra };
}

export function sseFrame(sequence: number, type: string, data: Record<string, unknown> = {}): string {
  return `id: ${sequence}\nevent: ${type}\ndata: ${JSON.stringify({ sequence, type, at: "2026-11-26T08:00:00.000Z", data })}\n\n`;
}

/** A job that passes the shared Job schema. */
export function fakeJob(overrides: Partial<Job> = {}): Job {
  const at = "2026-11-26T08:00:00.000Z";
  return {
    id: "job_01jdv5x0f3q2c7e9r6m4w8k1zt",
    object: "job",
    model: "ecomid-tiny",
    bundle_version: "tiny-1",
    status: "queued",
    substatus: null,
    cached: false,
    attempt: 1,
    input: {
      reference_images: [{ file: "face" }],
      prompt: "a portrait",
      negative_prompt: "",
      keypoints: { type: "reference" },
      identity_strength: 0.3,
      structure_strength: 0.8,
      id_mode: "fidelity",
      id_noise: 0,
      steps: 4,
      guidance: 3.5,
      sampler: "dpm_2_karras",
      width: 64,
      height: 64,
      num_outputs: 1,
      output_format: "webp",
      output_quality: 90,
      return_intermediates: [],
      provenance: { embed: "c2pa+iptc", include_prompt: false },
    },
    seed: 1,
    metadata: {},
    webhook: null,
    progress: null,
    faces: null,
    chosen_face: null,
    output: [],
    intermediates: [],
    error: null,
    provenance: null,
    metrics: { queue_ms: null, run_ms: null, total_ms: null },
    data_removed: false,
    retention_seconds: 3600,
    created_at: at,
    updated_at: at,
    started_at: null,
    completed_at: null,
    deadline_at: null,
    expires_at: null,
    ...overrides,
  };
}

/**
 * For a test file: each test starts its own fake API with `setup(handler)` and gets an
 * SDK client for it (`baseUrl` + `basePath`, then `clientOptions`); the fake is stopped after every test.
 */
export function fakeApiPerTest(basePath = "", clientOptions: Partial<EcomidClientOptions> = {}) {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });
  return async function setup(handler: FakeHandler) {
    const fake = await startFakeApi(handler);
    stop = fake.close;
    return { fake, client: new EcomidClient({ baseUrl: `${fake.baseUrl}${basePath}`, apiKey: "ek_test_abc", ...clientOptions }) };
  };
}
