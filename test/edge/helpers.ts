import { createExecutionContext, createMessageBatch, env, getQueueResult, SELF, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../edge/src/index.js";
import type { AppBindings } from "../../edge/src/env.js";

/** The test env, typed as the worker sees it (Durable Object stubs with their RPC methods). */
export const testEnv = env as unknown as AppBindings;
import { vi } from "vitest";
import type { Scope } from "@ecomid/shared/api";
import { DEFAULT_GPU_PROVENANCE, type GpuCallback, type GpuJobRequest, type GpuProvenanceReport } from "@ecomid/shared/protocol";
import { signCallback } from "@ecomid/shared/protocol";
import { newKeyRecord } from "../../edge/src/lib/api-keys.js";
import { ensureOwner } from "../../edge/src/webhooks/owners.js";

export const BASE = "http://127.0.0.1:8787";
export const POOL = "http://127.0.0.1:8790";
export const HOOK = "http://127.0.0.1:9999/hook";

export async function createKey(ownerId: string, scopes: Scope[] = ["jobs:read", "jobs:write"]): Promise<{ key: string; id: string }> {
  const { key, row, hash } = await newKeyRecord("test", ownerId, "test", scopes);
  await ensureOwner(env.DB, ownerId);
  await env.DB.prepare(`INSERT INTO api_keys (id, owner_id, name, prefix, key_hash, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
    .bind(row.id, row.owner_id, row.name, row.prefix, hash, row.scopes, row.created_at)
    .run();
  return { key, id: row.id };
}

export function api(path: string, key: string | null, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (key) headers.set("authorization", `Bearer ${key}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  return SELF.fetch(`${BASE}${path}`, { ...init, headers, body: body ?? null });
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A PNG header claiming `width` x `height` (enough for the edge, which never decodes pixels). */
export function pngOf(width: number, height: number, salt = 0): Uint8Array {
  return pngWith(width, height, { salt });
}

/**
 * A PNG header of a PNG colour type (PNG spec 11.2.2: 2 RGB, 3 palette, 4 grey + alpha,
 * 6 RGBA), optionally with a tRNS chunk (a transparent colour or palette alpha, 11.3.2.1)
 * and an IDAT chunk after it.
 */
export function pngWith(width: number, height: number, o: { salt?: number; colourType?: number; trns?: boolean } = {}): Uint8Array {
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, o.colourType ?? 2, 0, 0, 0], 8);
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("tEXt", new TextEncoder().encode(`salt\0${o.salt ?? 0}`)),
    ...(o.trns ? [chunk("tRNS", new Uint8Array([0, 0, 0, 0, 0, 0]))] : []),
    ...(o.trns !== undefined ? [chunk("IDAT", new Uint8Array([0]))] : []),
    chunk("IEND", new Uint8Array()),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function webpOf(width: number, height: number): Uint8Array {
  const b = new Uint8Array(30);
  b.set(new TextEncoder().encode("RIFF"), 0);
  b.set(new TextEncoder().encode("WEBPVP8X"), 8);
  const w = width - 1;
  const h = height - 1;
  b.set([w & 255, (w >> 8) & 255, (w >> 16) & 255, h & 255, (h >> 8) & 255, (h >> 16) & 255], 24);
  return b;
}

export interface Delivered {
  url: string;
  headers: Headers;
  body: string;
}

/**
 * A scripted peer behind the worker's outbound fetch: the GPU pool (records each
 * dispatch, answers with the scripted status) and a webhook receiver.
 */
export function installPeer() {
  const dispatched: GpuJobRequest[] = [];
  const canceled: string[] = [];
  const webhooks: Delivered[] = [];
  /** How each request to the pool asked for redirects to be handled ("follow", "manual"). */
  const poolRedirectModes: string[] = [];
  /** Requests that reached any other origin than the pool, the webhook receiver or real loopback services. */
  const elsewhere: string[] = [];
  const script = { poolStatus: [] as number[], hookStatus: [] as number[], poolRedirectTo: null as string | null };
  const real = globalThis.fetch;
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    if (url.origin === POOL) {
      poolRedirectModes.push(req.redirect);
      if (script.poolRedirectTo)
        return new Response(null, { status: 302, headers: { location: `${script.poolRedirectTo}${url.pathname}` } });
      if (url.pathname === "/health") return Response.json({ status: "ok", in_flight: 0, capacity: 1 });
      if (url.pathname.endsWith("/cancel")) {
        canceled.push(url.pathname.split("/")[3]!);
        return new Response(null, { status: 202 });
      }
      const status = script.poolStatus.shift() ?? 202;
      if (status === 202) dispatched.push((await req.json()) as GpuJobRequest);
      return new Response(status === 202 ? "{}" : "busy", { status });
    }
    if (url.origin === new URL(HOOK).origin) {
      webhooks.push({ url: req.url, headers: req.headers, body: await req.text() });
      return new Response("ok", { status: script.hookStatus.shift() ?? 200 });
    }
    if (!["127.0.0.1", "localhost"].includes(url.hostname)) elsewhere.push(req.url);
    return real(input, init);
  });
  return { dispatched, canceled, webhooks, script, poolRedirectModes, elsewhere, restore: () => spy.mockRestore() };
}

/** Plays the GPU function: a signed callback for `request`'s job and attempt. */
export async function gpuCallback(request: GpuJobRequest, cb: GpuCallback, secret = request.callback.secret): Promise<Response> {
  const body = JSON.stringify(cb);
  const path = new URL(request.callback.url).pathname;
  return SELF.fetch(`${BASE}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "ecomid-attempt": String(request.attempt),
      "ecomid-signature": await signCallback(secret, request.job_id, request.attempt, body),
    },
    body,
  });
}

/** One detected face, as a GPU function's success report lists it. */
export const SAMPLE_FACES: Extract<GpuCallback, { type: "succeeded" }>["faces"] = [
  {
    box: [1, 2, 30, 40],
    score: 0.9,
    keypoints: [
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 5],
    ],
  },
];

/**
 * What a GPU function following issue 15's contract reports for `request`: the labels it asked
 * for, a composite for an inpaint job that keeps real pixels, a C2PA claim only with c2pa+iptc.
 */
export function reportedProvenance(request: GpuJobRequest): GpuProvenanceReport {
  const asked = request.spec.provenance ?? DEFAULT_GPU_PROVENANCE;
  const composite = request.spec.inpaint?.keep_unmasked === true;
  return {
    embedded: asked.embed,
    digital_source_type: `http://cv.iptc.org/newscodes/digitalsourcetype/${composite ? "compositeWithTrainedAlgorithmicMedia" : "trainedAlgorithmicMedia"}`,
    c2pa:
      asked.embed === "c2pa+iptc"
        ? {
            signer: "EcomID test operator",
            alg: "es256",
            action: composite ? "c2pa.edited" : "c2pa.created",
            development_certificate: true,
          }
        : null,
    prompt_included: asked.include_prompt && asked.embed !== "none",
  };
}

/**
 * Uploads every output through its signed PUT URL and reports success, with the provenance
 * the request asked for (reportedProvenance), a given one, or none (null: a GPU function
 * from before issue 15).
 */
export async function completeJob(
  request: GpuJobRequest,
  provenance: GpuProvenanceReport | null = reportedProvenance(request),
): Promise<Response> {
  const outputs = [];
  for (const o of request.outputs) {
    const bytes = webpOf(64, 64);
    const put = await SELF.fetch(o.put_url, { method: "PUT", headers: { "content-type": o.content_type }, body: bytes as BufferSource });
    // 201 the first time; 200 when a retried upload sends the same bytes again (outputs are write-once).
    if (put.status !== 201 && put.status !== 200) throw new Error(`output upload failed: ${put.status} ${await put.text()}`);
    outputs.push({
      index: o.index,
      content_type: o.content_type,
      bytes: bytes.byteLength,
      sha256: "x",
      width: 64,
      height: 64,
      seed: 1,
      identity_similarity: 0.5,
    });
  }
  return gpuCallback(request, {
    type: "succeeded",
    attempt: request.attempt,
    outputs,
    intermediates: [],
    faces: SAMPLE_FACES,
    chosen_face: 0,
    timings: { run_ms: 1234, stages_ms: { denoise: 1000 } },
    ...(provenance ? { provenance } : {}),
  });
}

export function tinyJob(overrides: Record<string, unknown> = {}, input: Record<string, unknown> = {}) {
  return {
    model: "ecomid-tiny",
    input: { reference_images: [{ file: "face" }], prompt: "a portrait", width: 64, height: 64, steps: 4, seed: 7, ...input },
    ...overrides,
  };
}

/** A multipart job submission with the given image bytes as part "face". */
export function multipartJob(
  key: string,
  body: unknown,
  image: Uint8Array = pngOf(512, 512),
  headers: Record<string, string> = {},
): Promise<Response> {
  const form = new FormData();
  form.set("request", JSON.stringify(body));
  form.set("face", new File([image as BlobPart], "face.png", { type: "image/png" }));
  return SELF.fetch(`${BASE}/v1/jobs`, { method: "POST", headers: { authorization: `Bearer ${key}`, ...headers }, body: form });
}

export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 8000): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the dispatch consumer on one message, as the queue would. */
export async function runDispatch(jobId: string, attempt = 1, deliveryAttempts = 1) {
  const batch = createMessageBatch("ecomid-dispatch", [
    { id: crypto.randomUUID(), timestamp: new Date(), attempts: deliveryAttempts, body: { job_id: jobId, attempt } },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, env as never, ctx);
  return getQueueResult(batch, ctx);
}

/** Runs the webhook consumer on every pending delivery of `jobId`. */
export async function runWebhookDeliveries(jobId: string) {
  const { results } = await env.DB.prepare(`SELECT id FROM webhook_deliveries WHERE job_id = ? AND status = 'pending' ORDER BY sequence`)
    .bind(jobId)
    .all<{ id: string }>();
  const batch = createMessageBatch(
    "ecomid-webhooks",
    results.map((r) => ({ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: { delivery_id: r.id } })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, env as never, ctx);
  return getQueueResult(batch, ctx);
}

/** A GET straight to the worker with an env of its own: a fresh config, e.g. other limits or a trusted address header. */
export async function fetchWithVars(path: string, vars: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`${BASE}${path}`, { headers }), { ...env, ...vars } as never, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}
