import type { AppBindings } from "../env.js";
import { jobIndexWriter } from "../durable-objects/job-index-writer.js";
import { log } from "../lib/log.js";
import type { StoredImage } from "./types.js";

/**
 * Input images (face photos: biometric data) live in R2 as blobs, one per owner and
 * content hash. None may exist without a record that deletes it: the job that uses
 * it, a live upload, or a pending release in D1 `blob_releases` that the cron sweep
 * decides once its grace period is over. A blob is recorded before it is written.
 */

/**
 * A job being created holds its blobs for at most this long before its listing row
 * exists (image fetches are bounded by their timeouts well inside it).
 */
export const BLOB_RELEASE_GRACE_MS = 10 * 60 * 1000;

/** An image ready to store: its key and bytes; an upload's image is stored already and has none. */
export interface ImageToStore {
  image: StoredImage;
  bytes: Uint8Array | null;
}

/**
 * Stores the images that are not stored yet. Each gets a pending release first, so a
 * request that stops anywhere after this point (refused, failed, the isolate gone)
 * leaves a record the sweep deletes the blob by, unless a job or upload uses it by
 * then. The put is repeated when the copy exists: it renews the blob's upload time,
 * which tells `releaseBlobs` that a job being created right now may use it.
 */
export async function storeInputBlobs(env: AppBindings, ownerId: string, images: ImageToStore[], nowMs = Date.now()): Promise<void> {
  const fresh = images.filter((i): i is { image: StoredImage; bytes: Uint8Array } => i.bytes !== null);
  if (!fresh.length) return;
  const checkAfter = new Date(nowMs + BLOB_RELEASE_GRACE_MS).toISOString();
  await env.DB.batch(
    fresh.map(({ image }) =>
      env.DB.prepare(
        `INSERT INTO blob_releases (r2_key, owner_id, check_after) VALUES (?, ?, ?) ON CONFLICT(r2_key) DO UPDATE SET check_after = max(check_after, excluded.check_after)`,
      ).bind(image.key, ownerId, checkAfter),
    ),
  );
  for (const { image, bytes } of fresh) {
    await env.FILES.put(image.key, bytes, { httpMetadata: { contentType: image.content_type }, customMetadata: { sha256: image.sha256 } });
  }
}

/**
 * The job that uses these blobs now exists and will release them itself: their pending
 * releases go. Best effort: a release left behind is decided by the sweep, which finds
 * the job using the blob and keeps it, so a failure here must not fail a created job.
 */
export async function settleInputBlobs(env: AppBindings, images: ImageToStore[]): Promise<void> {
  const keys = images.filter((i) => i.bytes !== null).map((i) => i.image.key);
  if (!keys.length) return;
  try {
    await env.DB.batch(keys.map((key) => env.DB.prepare(`DELETE FROM blob_releases WHERE r2_key = ?`).bind(key)));
  } catch (e) {
    log("warn", "pending input releases left for the sweep", { keys: keys.length, error: String(e) });
  }
}

/**
 * Deletes input blobs that no other job and no live upload of the owner still uses.
 * Runs when a job is deleted or its retention ends, and for due pending releases.
 * A blob written within the grace period may belong to a job still being created
 * (not yet in the index): it is left for the cron sweep to decide after the grace.
 */
export async function releaseBlobs(
  env: AppBindings,
  ownerId: string,
  exceptJobId: string,
  keys: string[],
  nowMs = Date.now(),
): Promise<void> {
  await jobIndexWriter(env).flush();
  for (const key of new Set(keys)) {
    const usedByJob = await env.DB.prepare(
      `SELECT 1 FROM jobs WHERE owner_id = ? AND id != ? AND instr(body, ?) > 0 AND coalesce(json_extract(body, '$.core.data_removed'), 0) = 0 LIMIT 1`,
    )
      .bind(ownerId, exceptJobId, key)
      .first();
    const usedByUpload = await env.DB.prepare(`SELECT 1 FROM uploads WHERE owner_id = ? AND r2_key = ? AND expires_at > ? LIMIT 1`)
      .bind(ownerId, key, new Date(nowMs).toISOString())
      .first();
    const blob = usedByJob || usedByUpload ? null : await env.FILES.head(key);
    if (blob && nowMs - blob.uploaded.getTime() < BLOB_RELEASE_GRACE_MS) {
      const checkAfter = new Date(blob.uploaded.getTime() + BLOB_RELEASE_GRACE_MS).toISOString();
      await env.DB.prepare(
        `INSERT INTO blob_releases (r2_key, owner_id, check_after) VALUES (?, ?, ?) ON CONFLICT(r2_key) DO UPDATE SET check_after = excluded.check_after`,
      )
        .bind(key, ownerId, checkAfter)
        .run();
      continue;
    }
    if (blob) await env.FILES.delete(key);
    await env.DB.prepare(`DELETE FROM blob_releases WHERE r2_key = ?`).bind(key).run();
  }
}

const SWEEP_PAGE = 200;
const SWEEP_PAGES_PER_RUN = 10;

/** Decides the releases whose grace has passed (cron), an owner's at a time. Returns how many were looked at. */
export async function sweepReleasedBlobs(env: AppBindings, nowMs = Date.now()): Promise<number> {
  let seen = 0;
  for (let page = 0; page < SWEEP_PAGES_PER_RUN; page++) {
    const { results } = await env.DB.prepare(
      `SELECT r2_key, owner_id FROM blob_releases WHERE check_after <= ? ORDER BY check_after LIMIT ?`,
    )
      .bind(new Date(nowMs).toISOString(), SWEEP_PAGE)
      .all<{ r2_key: string; owner_id: string }>();
    const byOwner = new Map<string, string[]>();
    for (const r of results) byOwner.set(r.owner_id, [...(byOwner.get(r.owner_id) ?? []), r.r2_key]);
    for (const [owner, keys] of byOwner) await releaseBlobs(env, owner, "", keys, nowMs);
    seen += results.length;
    if (results.length < SWEEP_PAGE) break;
  }
  return seen;
}
