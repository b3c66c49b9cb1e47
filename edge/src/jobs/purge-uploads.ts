import type { AppBindings } from "../env.js";
import { releaseBlobs } from "./input-blobs.js";

/** Uploads never used within their lifetime are deleted, with their blob unless a job still uses it. */
export async function purgeExpiredUploads(env: AppBindings, nowIso = new Date().toISOString()): Promise<number> {
  const { results } = await env.DB.prepare(`SELECT id, owner_id, r2_key FROM uploads WHERE expires_at < ? LIMIT 500`)
    .bind(nowIso)
    .all<{ id: string; owner_id: string; r2_key: string }>();
  if (!results.length) return 0;
  await env.DB.batch(results.map((r) => env.DB.prepare(`DELETE FROM uploads WHERE id = ?`).bind(r.id)));
  for (const r of results) {
    await env.CACHE.delete(`upload:${r.id}`);
    await releaseBlobs(env, r.owner_id, "", [r.r2_key]);
  }
  return results.length;
}
