import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { setupFetch } from "../support/setup-fetch.js";

/** Real resources the fuzzer aims at, so odd requests meet real ids as well as made-up ones. */
export interface FuzzFixtures {
  apiKey: string;
  adminKey: string;
  /** A key of another owner: its jobs must look missing to apiKey. */
  otherKey: string;
  readOnlyKey: string;
  revokedKey: string;
  revokedKeyId: string;
  uploadId: string;
  pendingUploadId: string;
  /** Finished with an output, and a webhook delivery (to a closed loopback port). */
  jobId: string;
  deliveryId: string | null;
  otherOwnerJobId: string;
  face: Buffer;
  notAnImage: Buffer;
}

type Json = Record<string, any>;

const IMAGES = resolve(import.meta.dirname, "../../fixtures/images");
/** The edge may fetch http on loopback in the test stack; nothing listens on port 9. */
export const DEAD_WEBHOOK_URL = "http://127.0.0.1:9/hooks/fuzz";

async function call(base: string, key: string, method: string, path: string, body?: unknown, extra: RequestInit = {}): Promise<Json> {
  const init: RequestInit = {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...extra,
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await setupFetch(base + path, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`fixture setup: ${method} ${path} gave ${res.status}: ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as Json) : {};
}

async function newKey(base: string, adminKey: string, owner: string, scopes: string[]): Promise<Json> {
  return call(base, adminKey, "POST", "/v1/admin/keys", { owner_id: owner, scopes, name: "fuzz" });
}

async function completeUpload(base: string, key: string, image: Buffer): Promise<string> {
  const upload = await call(base, key, "POST", "/v1/uploads", { content_type: "image/png", bytes: image.byteLength });
  const put = await fetch(upload.upload_url as string, {
    method: "PUT",
    headers: { "content-type": "image/png" },
    body: new Uint8Array(image),
  });
  if (put.status !== 201) throw new Error(`fixture upload PUT gave ${put.status}`);
  return upload.id as string;
}

async function waitTerminal(base: string, key: string, id: string, timeoutMs = 120_000): Promise<Json> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const job = await call(base, key, "GET", `/v1/jobs/${id}`);
    if (["succeeded", "failed", "canceled", "aborted"].includes(job.status as string)) return job;
    if (Date.now() > until) throw new Error(`fixture job ${id} still ${job.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Creates keys of three kinds, an upload, and a finished job with a webhook delivery. */
export async function prepareFixtures(base: string, apiKey: string, adminKey: string): Promise<FuzzFixtures> {
  const face = readFileSync(resolve(IMAGES, "astronaut.png"));
  const other = await newKey(base, adminKey, "fuzz-other-owner", ["jobs:read", "jobs:write"]);
  const readOnly = await newKey(base, adminKey, "fuzz-reader", ["jobs:read"]);
  const revoked = await newKey(base, adminKey, "fuzz-revoked", ["jobs:read", "jobs:write"]);
  await call(base, adminKey, "POST", `/v1/admin/keys/${revoked.id as string}/revoke`);

  const upload = { id: await completeUpload(base, apiKey, face) };
  const pending = await call(base, apiKey, "POST", "/v1/uploads", { content_type: "image/jpeg", bytes: 1000 });

  const job = await call(base, apiKey, "POST", "/v1/jobs", {
    model: "ecomid-tiny",
    input: { reference_images: [{ upload_id: upload.id }], prompt: "a fuzz fixture portrait", seed: 7 },
    webhook: { url: DEAD_WEBHOOK_URL },
  });
  const otherUpload = await completeUpload(base, other.key as string, face);
  const otherJob = await call(base, other.key as string, "POST", "/v1/jobs", {
    model: "ecomid-tiny",
    input: { reference_images: [{ upload_id: otherUpload }], prompt: "another owner's job", seed: 7 },
  });
  await waitTerminal(base, apiKey, job.id as string);
  // The delivery row appears when the terminal event is queued; it may take a moment.
  let deliveryId: string | null = null;
  for (let i = 0; i < 40 && !deliveryId; i++) {
    const log = await call(base, apiKey, "GET", `/v1/jobs/${job.id as string}/webhook_deliveries`);
    deliveryId = ((log.data as Json[])[0]?.id as string | undefined) ?? null;
    if (!deliveryId) await new Promise((r) => setTimeout(r, 250));
  }
  return {
    apiKey,
    adminKey,
    otherKey: other.key as string,
    readOnlyKey: readOnly.key as string,
    revokedKey: revoked.key as string,
    revokedKeyId: revoked.id as string,
    uploadId: upload.id as string,
    pendingUploadId: pending.id as string,
    jobId: job.id as string,
    deliveryId,
    otherOwnerJobId: otherJob.id as string,
    face,
    notAnImage: Buffer.from("this is text, not an image\n".repeat(20)),
  };
}
