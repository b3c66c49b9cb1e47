import type { Job } from "@ecomid/shared/api";
import type { GpuOutputReport } from "@ecomid/shared/protocol";

/** An input image kept in R2 for the job's lifetime. */
export interface StoredImage {
  key: string;
  content_type: string;
  sha256: string;
  bytes: number;
  width: number;
  height: number;
}

export interface StoredOutput extends GpuOutputReport {
  key: string;
}

export interface StoredIntermediate {
  kind: string;
  key: string;
  content_type: string;
}

/**
 * Every input image a job stored. The inpaint and softedge ones are absent on jobs created
 * before those inputs existed; a softedge job stores its photo or its edge map (the job's
 * input says which).
 */
export interface StoredInputs {
  reference: StoredImage[];
  keypoint_image: StoredImage | null;
  inpaint_image?: StoredImage | null;
  inpaint_mask?: StoredImage | null;
  softedge_image?: StoredImage | null;
}

/** The blobs a job's record holds, each released when the job is deleted or expires. */
export function storedInputImages(inputs: StoredInputs): StoredImage[] {
  return [...inputs.reference, inputs.keypoint_image, inputs.inpaint_image, inputs.inpaint_mask, inputs.softedge_image].filter(
    (i): i is StoredImage => !!i,
  );
}

/** The job without the URLs, which are minted on every read. */
export type JobCore = Omit<Job, "output" | "intermediates">;

/** What the job Durable Object keeps and mirrors into D1 (no secrets). */
export interface StoredJob {
  core: JobCore;
  owner_id: string;
  key_id: string;
  inputs: StoredInputs;
  outputs: StoredOutput[];
  intermediates: StoredIntermediate[];
  cache_key: string | null;
  /** The request that created the job, carried to the GPU function so both sides log it. */
  request_id?: string;
}

/** Private to the job object: where the current attempt runs and its lease. */
export interface DispatchState {
  pool: string | null;
  lease_until_ms: number | null;
  /** When the current attempt was queued; bounds the wait for a GPU. */
  queued_since_ms: number;
  last_step: number;
  last_stage: string | null;
  /** Jobs handed back by draining GPU functions (absent in state written before hand-backs existed). */
  handbacks?: number;
  /** When the dispatch consumer last tried this attempt; long silence means a lost message. */
  last_try_ms?: number;
  /** When the last output PUT URLs handed to a GPU function expire. */
  output_urls_expire_ms?: number;
  /** Files were deleted while those URLs were valid: when the job's prefix is swept again. */
  output_sweep_at_ms?: number | null;
}

export const r2Keys = {
  upload: (owner: string, uploadId: string) => `uploads/${owner}/${uploadId}`,
  /** Input images are content-addressed per owner: a face photo sent again is stored once. */
  blob: (owner: string, sha256: string) => `blobs/${owner}/${sha256}`,
  output: (owner: string, jobId: string, attempt: number, index: number, ext: string) =>
    `jobs/${owner}/${jobId}/outputs/a${attempt}/${index}.${ext}`,
  intermediate: (owner: string, jobId: string, attempt: number, kind: string) =>
    `jobs/${owner}/${jobId}/intermediates/a${attempt}/${kind}.png`,
  jobPrefix: (owner: string, jobId: string) => `jobs/${owner}/${jobId}/`,
};

export const EXTENSION_BY_FORMAT = { webp: "webp", png: "png", jpeg: "jpg" } as const;
