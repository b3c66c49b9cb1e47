import type { AppBindings } from "../env.js";
import { AppError } from "../errors.js";
import { sha256Hex } from "@ecomid/shared/crypto";
import type { ImageInfo } from "../lib/image-sniff.js";
import { storeInputBlobs } from "./input-blobs.js";
import { rememberCompletedUpload } from "./resolve-inputs.js";
import { r2Keys } from "./types.js";

/**
 * The PUT of a direct upload: the image becomes a content-addressed blob of its owner
 * and the upload row points at it. An upload takes one file: the same bytes again are
 * a replay (a client's retry after a lost answer), other bytes are refused and the
 * first file stays, so an upload URL cannot swap the photo a job will use.
 */
export async function completeUpload(
  env: AppBindings,
  uploadKey: string,
  bytes: Uint8Array,
  info: ImageInfo,
): Promise<{ sha256: string; replayed: boolean }> {
  const [, owner, id] = uploadKey.split("/") as [string, string, string];
  const sha256 = await sha256Hex(bytes);
  const row = await env.DB.prepare(`SELECT status, sha256 FROM uploads WHERE id = ? AND owner_id = ?`)
    .bind(id, owner)
    .first<{ status: string; sha256: string | null }>();
  if (!row) throw new AppError("not_found", "the upload no longer exists");
  if (row.status === "complete") return { sha256, replayed: sameOrRefused(row.sha256, sha256) };
  const key = r2Keys.blob(owner, sha256);
  await storeInputBlobs(env, owner, [
    { image: { key, content_type: info.contentType, sha256, bytes: bytes.byteLength, width: info.width, height: info.height }, bytes },
  ]);
  // Only a pending upload completes: of two PUTs that raced past the check above, one wins
  // (the loser's blob keeps its pending release, which deletes it unless something uses it).
  const done = await env.DB.prepare(
    `UPDATE uploads SET status = 'complete', r2_key = ?, sha256 = ?, width = ?, height = ?, bytes = ? WHERE id = ? AND status = 'pending' RETURNING owner_id, expires_at`,
  )
    .bind(key, sha256, info.width, info.height, bytes.byteLength, id)
    .first<{ owner_id: string; expires_at: string }>();
  if (!done) {
    const winner = await env.DB.prepare(`SELECT sha256 FROM uploads WHERE id = ?`).bind(id).first<{ sha256: string | null }>();
    return { sha256, replayed: sameOrRefused(winner?.sha256 ?? null, sha256) };
  }
  await rememberCompletedUpload(env, id, {
    owner_id: done.owner_id,
    status: "complete",
    r2_key: key,
    content_type: info.contentType,
    bytes: bytes.byteLength,
    sha256,
    width: info.width,
    height: info.height,
    expires_at: done.expires_at,
  });
  return { sha256, replayed: false };
}

function sameOrRefused(stored: string | null, sent: string): true {
  if (stored === sent) return true;
  throw new AppError(
    "upload_already_complete",
    "this upload already holds a file; an upload takes one file (create another upload for another image)",
  );
}
