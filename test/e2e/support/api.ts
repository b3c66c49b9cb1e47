import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { inject } from "vitest";
import { fetchResendingOnBreak, waitUntil } from "./net.js";

/** A small client for the public API as a customer meets it: plain fetch, the documented JSON. */
// Loose on purpose: the tests assert the documented shapes with expect(), field by field.
export type Json = Record<string, any>;

const IMAGES = resolve(import.meta.dirname, "../../fixtures/images");
export const image = (name: string) => readFileSync(resolve(IMAGES, name));

export function stack() {
  return inject("e2eStack");
}

export function authHeaders(): Record<string, string> {
  return { authorization: `Bearer ${stack().apiKey}` };
}

/** One call; a broken connection under a repeatable request is not a failure (see fetchResendingOnBreak). */
export function api(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = { ...authHeaders(), ...(init.headers as Record<string, string>) };
  return fetchResendingOnBreak(`${stack().edgeUrl}${path}`, { ...init, headers, redirect: "manual" });
}

/** POST /v1/jobs as multipart: the job JSON in the part named "request", each file in its own part. */
export async function submitMultipart(request: Json, files: Record<string, { bytes: Uint8Array; type: string }>): Promise<Response> {
  const form = new FormData();
  form.set("request", JSON.stringify(request));
  for (const [name, f] of Object.entries(files)) form.set(name, new Blob([new Uint8Array(f.bytes)], { type: f.type }), `${name}.bin`); // a copy on a plain ArrayBuffer, as Blob wants
  // The key makes a re-send after a broken connection a replay, never a second job.
  return api("/v1/jobs", { method: "POST", body: form, headers: { "idempotency-key": `e2e-${randomUUID()}` } });
}

/** A tiny-model job on one reference image sent inline as the part "face". */
export function tinyJob(input: Json, extra: Json = {}): Json {
  return { model: "ecomid-tiny", input: { reference_images: [{ file: "face" }], ...input }, ...extra };
}

export async function createJob(request: Json, face: Uint8Array): Promise<Json> {
  const r = await submitMultipart(request, { face: { bytes: face, type: "image/png" } });
  const body = (await r.json()) as Json;
  if (r.status !== 201) throw new Error(`POST /v1/jobs gave ${r.status}: ${JSON.stringify(body)}`);
  return body;
}

export async function getJob(id: string): Promise<Json> {
  const r = await api(`/v1/jobs/${id}`);
  if (!r.ok) throw new Error(`GET /v1/jobs/${id} gave ${r.status}`);
  return (await r.json()) as Json;
}

const TERMINAL = ["succeeded", "failed", "canceled", "aborted"];

export function waitForStatus(
  id: string,
  timeoutMs: number,
  wanted: (job: Json) => boolean = (j) => TERMINAL.includes(j.status),
): Promise<Json> {
  return waitUntil(`job ${id} to reach the wanted state`, timeoutMs, async () => {
    const job = await getJob(id);
    return wanted(job) ? job : undefined;
  });
}

/** The GPU function's Prometheus text, as {"name{labels}": value}. */
export async function gpuMetrics(): Promise<Record<string, number>> {
  const text = await (await fetch(`${stack().gpuUrl}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^(\S+) (\S+)$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

export async function gpuHealth(): Promise<Json> {
  return (await (await fetch(`${stack().gpuUrl}/health`)).json()) as Json;
}
