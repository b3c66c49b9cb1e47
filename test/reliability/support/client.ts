import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fetchResendingOnBreak } from "../../e2e/support/net.js";

/**
 * The public API as a customer calls it, bound to one stack (test/e2e/support/api.ts
 * reads its stack from vitest's inject, which a script run by tsx does not have).
 */
// Loose on purpose: the suites check the documented fields one by one.
export type Json = Record<string, any>;

export interface StackAddress {
  edgeUrl: string;
  apiKey: string;
}

export const fixtureImage = (name: string): Uint8Array => readFileSync(resolve(import.meta.dirname, "../../fixtures/images", name));

export const TERMINAL_STATUSES = ["succeeded", "failed", "canceled", "aborted"] as const;
export const isTerminalStatus = (status: string) => (TERMINAL_STATUSES as readonly string[]).includes(status);

/** One event of a job's log, as GET /v1/jobs/{id}/events replays it. */
export interface JobLogEvent {
  sequence: number;
  type: string;
  at: string;
  data: Json;
}

export class ApiClient {
  constructor(private readonly stack: StackAddress) {}

  /** One call; a broken connection under a repeatable request is not a failure (see fetchResendingOnBreak). */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.stack.apiKey}`,
      ...(init.headers as Record<string, string> | undefined),
    };
    return fetchResendingOnBreak(`${this.stack.edgeUrl}${path}`, {
      ...init,
      headers,
      redirect: "manual",
      signal: init.signal ?? AbortSignal.timeout(30_000),
    });
  }

  async json(path: string, init: RequestInit = {}): Promise<Json> {
    const r = await this.fetch(path, init);
    const body = (await r.json()) as Json;
    if (!r.ok) throw new Error(`${init.method ?? "GET"} ${path} gave ${r.status}: ${JSON.stringify(body)}`);
    return body;
  }

  /** POST /v1/jobs on the tiny model with `face` inline as the part "face". */
  async createTinyJob(input: Json, face: Uint8Array, extra: Json = {}): Promise<Json> {
    const form = new FormData();
    form.set("request", JSON.stringify({ model: "ecomid-tiny", input: { reference_images: [{ file: "face" }], ...input }, ...extra }));
    form.set("face", new Blob([new Uint8Array(face)], { type: "image/png" }), "face.png");
    // The key makes a re-send after a broken connection a replay, never a second job.
    const r = await this.fetch("/v1/jobs", { method: "POST", body: form, headers: { "idempotency-key": `rel-${randomUUID()}` } });
    const body = (await r.json()) as Json;
    if (r.status !== 201) throw new Error(`POST /v1/jobs gave ${r.status}: ${JSON.stringify(body)}`);
    return body;
  }

  getJob(id: string): Promise<Json> {
    return this.json(`/v1/jobs/${id}`);
  }

  async webhookSecret(): Promise<string> {
    return (await this.json("/v1/webhook_secret")).secret as string;
  }

  async webhookDeliveries(jobId: string): Promise<Json[]> {
    return (await this.json(`/v1/jobs/${jobId}/webhook_deliveries`)).data as Json[];
  }

  /** The whole event log of a finished job: for a terminal job the stream replays it and closes. */
  async eventLog(jobId: string): Promise<JobLogEvent[]> {
    const r = await this.fetch(`/v1/jobs/${jobId}/events`, { headers: { accept: "text/event-stream" } });
    if (r.status !== 200) throw new Error(`events of ${jobId} gave ${r.status}`);
    const text = await r.text();
    return text
      .split("\n\n")
      .map((frame) => frame.split("\n").find((line) => line.startsWith("data:")))
      .filter((line): line is string => line !== undefined)
      .map((line) => JSON.parse(line.slice("data:".length)) as JobLogEvent);
  }
}
