import type { ResolvedJobInput } from "@ecomid/shared/api";
import { sha256Hex } from "@ecomid/shared/crypto";
import type { AppBindings } from "../env.js";
import { canonicalJson } from "../lib/canonical-json.js";
import type { StoredInputs } from "./types.js";

/**
 * The result cache: same owner, same input bytes, same parameters and seed, same
 * bundle version -> the earlier job's outputs. Scoped per owner so one customer can
 * never learn what another generated.
 */
const CACHE_TTL_SECONDS = 30 * 24 * 3600;

export async function cacheResult(env: AppBindings, cacheKey: string, jobId: string): Promise<void> {
  await env.CACHE.put(`result:${cacheKey}`, jobId, { expirationTtl: CACHE_TTL_SECONDS });
}

export async function lookupCachedJob(env: AppBindings, cacheKey: string): Promise<string | null> {
  return env.CACHE.get(`result:${cacheKey}`);
}

export interface CacheKeyParts {
  owner: string;
  bundle: string;
  /** The job's input as it runs (defaults filled in, the output size resolved). */
  input: ResolvedJobInput;
  seed: number;
  images: StoredInputs;
}

/**
 * Every parameter, with each image by its content hash rather than by how it was sent (an
 * upload, a URL or a part give the same key for the same bytes). Fields a job without
 * inpaint or softedge lacks are left out, so such a job keeps the key it had before they existed.
 */
export function resultCacheKey({ owner, bundle, input, seed, images }: CacheKeyParts): Promise<string> {
  const { reference_images: _refs, inpaint, softedge, ...params } = input;
  const kp = input.keypoints;
  return sha256Hex(
    canonicalJson({
      owner,
      bundle,
      params: { ...params, keypoints: kp.type === "points" || kp.type === "reference" ? kp : { type: kp.type } },
      seed,
      references: images.reference.map((r) => r.sha256),
      keypoint_image: images.keypoint_image?.sha256 ?? null,
      inpaint: inpaint && {
        ...inpaint,
        image: images.inpaint_image?.sha256,
        mask: images.inpaint_mask?.sha256 ?? null,
      },
      softedge: softedge && {
        ...softedge,
        image: softedge.image !== undefined ? images.softedge_image?.sha256 : undefined,
        edge_map: softedge.edge_map !== undefined ? images.softedge_image?.sha256 : undefined,
      },
    }),
  );
}
