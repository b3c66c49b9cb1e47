import { API_LIMITS } from "@ecomid/shared/api";
import type { ImageRef } from "@ecomid/shared/api";
import type { Config } from "../config/config.js";
import type { AppBindings } from "../env.js";
import { AppError } from "../errors.js";
import { sha256Hex } from "@ecomid/shared/crypto";
import { sniffImage } from "../lib/image-sniff.js";
import { guardedFetch, outboundPolicy } from "../lib/ssrf.js";
import type { ImageToStore } from "./input-blobs.js";
import { r2Keys } from "./types.js";

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
      throw new AppError(e.code, `${pointer}: ${e.detail}`, {
        ...e.options,
        status: e.status,
        errors: [{ pointer, code: e.code, message: e.detail }],
      });
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
  return env.DB.prepare(
    `SELECT owner_id, status, r2_key, content_type, bytes, sha256, width, height, expires_at FROM uploads WHERE id = ? AND owner_id = ?`,
  )
    .bind(id, ownerId)
    .first<UploadRecord>();
}

/** Resolves one input image to a checked (format, size, pixels), hashed image, without storing anything. */
export function checkImage(ref: ImageRef, pointer: string, ctx: ResolveContext): Promise<ImageToStore> {
  return atPointer(pointer, async () => {
    if ("upload_id" in ref) {
      const row = await findUpload(ctx.env, ctx.ownerId, ref.upload_id);
      // Another owner's upload answers like a missing one; 404 as for any id that names nothing of yours.
      if (!row) throw new AppError("not_found", `upload ${ref.upload_id} does not exist`);
      if (Date.parse(row.expires_at) < Date.now()) throw new AppError("upload_expired", `upload ${ref.upload_id} has expired`);
      if (row.status !== "complete") throw new AppError("upload_not_ready", `upload ${ref.upload_id} has not been uploaded yet`);
      return {
        image: {
          key: row.r2_key,
          content_type: row.content_type,
          sha256: row.sha256,
          bytes: row.bytes,
          width: row.width,
          height: row.height,
        },
        bytes: null,
      };
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
    if (bytes.byteLength > API_LIMITS.maxImageBytes)
      throw new AppError("image_too_large", `the image is larger than ${API_LIMITS.maxImageBytes} bytes`);
    const info = sniffImage(bytes);
    const sha256 = await sha256Hex(bytes);
    const image = {
      key: r2Keys.blob(ctx.ownerId, sha256),
      content_type: info.contentType,
      sha256,
      bytes: bytes.byteLength,
      width: info.width,
      height: info.height,
    };
    return { image, bytes };
  });
}
