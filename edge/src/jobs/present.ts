import type { Job } from "@ecomid/shared/api";
import type { Config } from "../config/config.js";
import type { AppBindings } from "../env.js";
import { downloadUrl } from "../lib/signed-urls.js";
import type { StoredJob } from "./types.js";

/** The public job object, with output URLs signed afresh so links never go stale while data is kept. */
export async function presentJob(stored: StoredJob, env: AppBindings, config: Config): Promise<Job> {
  const sign = (key: string) => downloadUrl(env, config.publicBaseUrl, config.signingSecret, key, config.signedUrlTtlSeconds);
  const removed = stored.core.data_removed;
  const output = removed
    ? []
    : await Promise.all(
        stored.outputs.map(async ({ key, ...o }) => {
          const { url, expiresAt } = await sign(key);
          return { ...o, url, url_expires_at: new Date(expiresAt * 1000).toISOString() };
        }),
      );
  const intermediates = removed
    ? []
    : await Promise.all(
        stored.intermediates.map(async ({ key, kind, content_type }) => {
          const { url, expiresAt } = await sign(key);
          return { kind, content_type, url, url_expires_at: new Date(expiresAt * 1000).toISOString() };
        }),
      );
  // Jobs stored before provenance existed say null: nothing is known of their labels.
  return { ...stored.core, provenance: stored.core.provenance ?? null, output, intermediates };
}
