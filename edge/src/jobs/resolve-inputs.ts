import { API_LIMITS } from "../../../shared/src/api/limits.js";
import type { ImageRef } from "../../../shared/src/api/job-input.js";
import type { Config } from "../config/config.js";
import type { AppBindings } from "../env.js";
import { AppError } from "../errors.js";
import { sha256Hex } from "../lib/crypto.js";
import { sniffImage } from "../lib/image-sniff.js";
import { guardedFetch, outboundPolicy } from "../lib/ssrf.js";
import { jobIndexWriter } from "../durable-objects/job-index-writer.js";
import { r2Keys, type StoredImage } from "./types.js";

export interface ResolveContext {
  env: AppBindings;
  config: Config;
  ownerId: string;
  files: Map<string, Uint8Array>;
}

/** Adds the field's pointer to any refusal, so the client sees which image was wrong. */
async function atPointer<T>(pointer: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof AppError && !e.options.errors) {
      throw new AppError(e.code, `${pointer}: ${e.detail}`, { ...e.options, status: e.status, errors: [{ pointer, code: e.code, message: e.detail }] });
    }
    throw e;
  }
}

interface UploadRecord {
  owner_id: string;
  status: string;
  r2_key: string;
  content_type: string;
  bytes: number;
  sha256: string;
  width: number;
  height: number;
  expires_at: string;
}

/**
 * A completed upload never changes, so its record is also kept in KV, read at the
 * edge location; D1 (one primary, far from most clients) answers only on a KV miss,
 * e.g. before KV has propagated, or for an upload still pending.
 */
export async function rememberCompletedUpload(env: AppBindings, id: string, record: UploadRecord): Promise<void> {
  const ttl = Math.max(60, Math.floor((Date.parse(record.expires_at) - Date.now()) / 1000));
  await env.CACHE.put(`upload:${id}`, JSON.stringify(record), { expirationTtl: ttl });
}

async function findUpload(env: AppBindings, ownerId: string, id: string): Promise<UploadRecord | null> {
  const cached = await env.CACHE.get<UploadRecord>(`upload:${id}`, "json");
  if (cached) return cached.owner_id === ownerId ? cached : null;
  return env.DB.prepare(`SELECT owner_id, status, r2_key, content_type, bytes, sha256, width, height, expires_at FROM uploads WHERE id = ? AND owner_id = ?`)
    .bind(id, ownerId)
    .first<UploadRecord>();
}

/**
 * Stores an image once per owner under its content hash. The put is repeated when the
 * copy exists: it renews the blob's upload time, which tells `releaseBlobs` that a job
 * being created right now may use it (the same bytes, so nothing else changes).
 */
export async function storeBlob(env: AppBindings, ownerId: string, bytes: Uint8Array, contentType: string): Promise<{ key: string; sha256: string }> {
  const sha256 = await sha256Hex(bytes);
  const key = r2Keys.blob(ownerId, sha256);
  await env.FILES.put(key, bytes, { httpMetadata: { contentType }, customMetadata: { sha256 } });
  return { key, sha256 };
}

/** Resolves one input image to a checked (format, size, pixels), hashed blob in R2. */
export function resolveImage(ref: ImageRef, pointer: string, ctx: ResolveContext): Promise<StoredImage> {
  return atPointer(pointer, async () => {
    if ("upload_id" in ref) {
      const row = await findUpload(ctx.env, ctx.ownerId, ref.upload_id);
      if (!row) throw new AppError("not_found", `upload ${ref.upload_id} does not exist`, { status: 422 });
      if (Date.parse(row.expires_at) < Date.now()) throw new AppError("upload_expired", `upload ${ref.upload_id} has expired`);
      if (row.status !== "complete") throw new AppError("upload_not_ready", `upload ${ref.upload_id} has not been uploaded yet`);
      return { key: row.r2_key, content_type: row.content_type, sha256: row.sha256, bytes: row.bytes, width: row.width, height: row.height };
    }
    let bytes: Uint8Array;
    if ("url" in ref) {
      const { response, body } = await guardedFetch(ref.url, {
        policy: outboundPolicy(ctx.config),
        maxBytes: API_LIMITS.maxImageBytes,
        timeoutMs: 10_000,
        maxRedirects: 3,
      }).catch((e: unknown) => {
        if (e instanceof AppError) throw e.code === "payload_too_large" ? new AppError("image_too_large", e.detail) : e;
        throw new AppError("input_fetch_failed", `could not fetch the image: ${e instanceof Error ? e.message : String(e)}`);
      });
      if (!response.ok) throw new AppError("input_fetch_failed", `fetching the image gave HTTP ${response.status}`);
      bytes = body;
    } else {
      const file = ctx.files.get(ref.file);
      if (!file) throw new AppError("invalid_multipart", `no file part named "${ref.file}" in the request`);
      bytes = file;
    }
    if (bytes.byteLength > API_LIMITS.maxImageBytes) throw new AppError("image_too_large", `the image is larger than ${API_LIMITS.maxImageBytes} bytes`);
    const info = sniffImage(bytes);
    const { key, sha256 } = await storeBlob(ctx.env, ctx.ownerId, bytes, info.contentType);
    return { key, content_type: info.contentType, sha256, bytes: bytes.byteLength, width: info.width, height: info.height };
  });
}

/**
 * A job being created holds its blobs for at most this long before its listing row
 * exists (image fetches are bounded by their timeouts well inside it).
 */
export const BLOB_RELEASE_GRACE_MS = 10 * 60 * 1000;

/**
 * Deletes input blobs that no other job and no live upload of the owner still uses.
 * Runs when a job is deleted or its retention ends (rare), so a scan is affordable.
 * A blob written within the grace period may belong to a job still being created
 * (not yet in the index): it is left for the cron sweep to decide after the grace.
 */
export async function releaseBlobs(env: AppBindings, ownerId: string, exceptJobId: string, keys: string[], nowMs = Date.now()): Promise<void> {
  await jobIndexWriter(env).flush();
  for (const key of new Set(keys)) {
    const usedByJob = await env.DB.prepare(`SELECT 1 FROM jobs WHERE owner_id = ? AND id != ? AND instr(body, ?) > 0 AND coalesce(json_extract(body, '$.core.data_removed'), 0) = 0 LIMIT 1`).bind(ownerId, exceptJobId, key).first();
    const usedByUpload = await env.DB.prepare(`SELECT 1 FROM uploads WHERE owner_id = ? AND r2_key = ? AND expires_at > ? LIMIT 1`).bind(ownerId, key, new Date(nowMs).toISOString()).first();
    const blob = usedByJob || usedByUpload ? null : await env.FILES.head(key);
    if (blob && nowMs - blob.uploaded.getTime() < BLOB_RELEASE_GRACE_MS) {
      const checkAfter = new Date(blob.uploaded.getTime() + BLOB_RELEASE_GRACE_MS).toISOString();
      await env.DB.prepare(`INSERT INTO blob_releases (r2_key, owner_id, check_after) VALUES (?, ?, ?) ON CONFLICT(r2_key) DO UPDATE SET check_after = excluded.check_after`)
        .bind(key, ownerId, checkAfter)
        .run();
      continue;
    }
    if (blob) await env.FILES.delete(key);
    await env.DB.prepare(`DELETE FROM blob_releases WHERE r2_key = ?`).bind(key).run();
  }
}

/** Decides the releases whose grace has passed (cron). Returns how many were looked at. */
export async function sweepReleasedBlobs(env: AppBindings, nowMs = Date.now()): Promise<number> {
  const { results } = await env.DB.prepare(`SELECT r2_key, owner_id FROM blob_releases WHERE check_after <= ? LIMIT 200`)
    .bind(new Date(nowMs).toISOString())
    .all<{ r2_key: string; owner_id: string }>();
  for (const r of results) await releaseBlobs(env, r.owner_id, "", [r.r2_key], nowMs);
  return results.length;
}
