import { Hono } from "hono";
import type { AppEnv } from "../env.js";
import { AppError } from "../errors.js";
import { getConfig } from "../config/config.js";
import { log } from "../lib/log.js";
import { sha256Hex } from "@ecomid/shared/crypto";
import { sniffImage } from "../lib/image-sniff.js";
import { readBody } from "../lib/parse.js";
import { verifyFileUrl } from "../lib/signed-urls.js";
import { completeUpload } from "../jobs/complete-upload.js";

/**
 * Signed file URLs served from R2 by the worker: the same scheme for client
 * uploads, GPU input downloads, GPU output uploads and client downloads.
 * The signature, not an API key, is the authority here.
 */
export const fileRoutes = new Hono<AppEnv>();

async function grantFor(c: { req: { url: string; method: string }; env: AppEnv["Bindings"] }) {
  const check = await verifyFileUrl(new URL(c.req.url), c.req.method, getConfig(c.env).signingSecret);
  if (!check.ok) {
    throw check.reason === "expired"
      ? new AppError("signature_expired", "this signed URL has expired; ask the API for a fresh one")
      : new AppError("signature_invalid", "this URL's signature is not valid for this file and method");
  }
  return check.grant;
}

fileRoutes.on(["GET", "HEAD"], "/*", async (c) => {
  const grant = await grantFor(c);
  const object = c.req.method === "HEAD" ? await c.env.FILES.head(grant.key) : await c.env.FILES.get(grant.key);
  if (!object) throw new AppError("not_found", "the file does not exist or was purged");
  const headers = new Headers({ "cache-control": "private, max-age=300", etag: object.httpEtag, "content-length": String(object.size) });
  headers.set("content-type", object.httpMetadata?.contentType ?? "application/octet-stream");
  headers.set("x-content-type-options", "nosniff");
  return new Response("body" in object ? (object as R2ObjectBody).body : null, { headers });
});

fileRoutes.put("/*", async (c) => {
  const grant = await grantFor(c);
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim();
  if (grant.contentType && type !== grant.contentType) {
    throw new AppError("unsupported_media_type", `this URL accepts only ${grant.contentType}`);
  }
  const bytes = await readBody(c.req.raw, grant.maxBytes ?? 0);
  if (bytes.byteLength === 0) throw new AppError("invalid_request", "the body is empty");
  const info = sniffImage(bytes);
  if (grant.contentType && info.contentType !== grant.contentType) {
    throw new AppError("unsupported_image_format", `the file is ${info.contentType}, not ${grant.contentType}`);
  }
  if (grant.key.startsWith("uploads/")) {
    const { sha256, replayed } = await completeUpload(c.env, grant.key, bytes, info);
    return c.json({ bytes: bytes.byteLength, sha256, width: info.width, height: info.height }, replayed ? 200 : 201);
  }
  await assertJobTakesOutput(c.env, grant.key);
  const sha256 = await sha256Hex(bytes);
  const written = await writeOnce(c.env.FILES, grant.key, bytes, info.contentType, sha256);
  return c.json({ bytes: bytes.byteLength, sha256, width: info.width, height: info.height }, written === "replayed" ? 200 : 201);
});

const JOB_FILE_KEY = /^jobs\/[^/]+\/(job_[0-9a-z]{26})\/(?:outputs|intermediates)\/a(\d+)\//;

/**
 * An output PUT URL outlives what it was made for when the job is deleted, its data
 * purged or its attempt superseded: the job object says whether this attempt may still
 * write, and a refusal (404, 409) tells the GPU function to stop.
 */
async function assertJobTakesOutput(env: AppEnv["Bindings"], key: string): Promise<void> {
  const m = JOB_FILE_KEY.exec(key);
  if (!m) throw new AppError("signature_invalid", "this URL's signature is not valid for this file and method");
  const verdict = await env.JOBS.get(env.JOBS.idFromName(m[1]!)).acceptsOutputs(Number(m[2]));
  if (verdict === "not_found") throw new AppError("not_found", "the job no longer exists; its outputs are not taken");
  if (verdict === "stale_attempt") throw new AppError("stale_attempt", "this attempt of the job is over; its outputs are not taken");
}

/**
 * Job outputs and intermediates are written once. Their keys are per attempt, so only
 * a second runner of the same attempt (a redelivered dispatch, or a retried PUT whose
 * answer was lost) writes a key again; once the job object has checked an output, its
 * bytes must not change under the sha256 the job reports. R2's conditional put
 * (If-None-Match: *) decides atomically, where a head-then-put check would race. The
 * same bytes again count as a replay (the uploader's retry after a lost answer);
 * different bytes are refused.
 */
async function writeOnce(
  files: R2Bucket,
  key: string,
  bytes: Uint8Array,
  contentType: string,
  sha256: string,
): Promise<"stored" | "replayed"> {
  const stored = await files.put(key, bytes, {
    httpMetadata: { contentType },
    customMetadata: { sha256 },
    onlyIf: { etagDoesNotMatch: "*" },
  });
  if (stored) {
    log("info", "output stored", { object: key, sha256, bytes: bytes.byteLength });
    return "stored";
  }
  const existing = await files.head(key);
  if (existing?.customMetadata?.sha256 === sha256) {
    log("info", "output write replayed", { object: key, sha256 });
    return "replayed";
  }
  log("warn", "output write refused: already written", { object: key, sha256, existing: existing?.customMetadata?.sha256 ?? null });
  throw new AppError("output_exists", "this output was already written with different bytes; signed output URLs write once");
}
