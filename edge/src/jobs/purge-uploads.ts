import type { AppBindings } from "../env.js";

/** Uploads never used within their lifetime are deleted (jobs keep their own copies). */
export async function purgeExpiredUploads(env: AppBindings, nowIso = new Date().toISOString()): Promise<number> {
  const { results } = await env.DB.prepare(`SELECT id, r2_key FROM uploads WHERE expires_at < ? LIMIT 500`).bind(nowIso).all<{ id: string; r2_key: string }>();
  if (!results.length) return 0;
  await env.FILES.delete(results.map((r) => r.r2_key));
  await env.DB.batch(results.map((r) => env.DB.prepare(`DELETE FROM uploads WHERE id = ?`).bind(r.id)));
  return results.length;
}
