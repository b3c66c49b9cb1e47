import { describe, expect, it } from "vitest";
import { ResolvedJobInput } from "@ecomid/shared/api";
import { sha256Hex } from "@ecomid/shared/crypto";
import { canonicalJson } from "../../edge/src/lib/canonical-json.js";
import { resultCacheKey, type CacheKeyParts } from "../../edge/src/jobs/result-cache.js";
import type { StoredImage, StoredInputs } from "../../edge/src/jobs/types.js";

/**
 * The result cache serves an earlier job's outputs only to a job that would compute the
 * same: every input of issue 14 (its images by content, each parameter) is in the key, and
 * how an image was sent (upload, URL, part) is not.
 */
const image = (n: number): StoredImage => ({
  key: `blobs/o/${String(n).repeat(64).slice(0, 64)}`,
  content_type: "image/png",
  sha256: String(n).repeat(64).slice(0, 64),
  bytes: 100,
  width: 128,
  height: 128,
});

const input = (over: Record<string, unknown> = {}) =>
  ResolvedJobInput.parse({
    reference_images: [{ file: "face" }],
    prompt: "p",
    width: 128,
    height: 128,
    keypoints: { type: "inpaint_image" },
    inpaint: { image: { file: "product" }, mask: { file: "mask" } },
    softedge: { image: { file: "photo" }, detector: "pidinet" },
    ...over,
  });

const images = (over: Partial<StoredInputs> = {}): StoredInputs => ({
  reference: [image(1)],
  keypoint_image: null,
  inpaint_image: image(2),
  inpaint_mask: image(3),
  softedge_image: image(4),
  ...over,
});

const base: CacheKeyParts = { owner: "o", bundle: "ecomid-tiny@0.1.0", input: input(), seed: 7, images: images() };
const inpaint = (o: Record<string, unknown>) => input({ inpaint: { image: { file: "product" }, mask: { file: "mask" }, ...o } });

describe("the result cache key", () => {
  it("differs when any inpaint or softedge input differs", async () => {
    const variants: Array<[string, CacheKeyParts]> = [
      ["another inpaint image", { ...base, images: images({ inpaint_image: image(5) }) }],
      ["another mask", { ...base, images: images({ inpaint_mask: image(5) }) }],
      ["another softedge photo", { ...base, images: images({ softedge_image: image(5) }) }],
      ["grow", { ...base, input: inpaint({ grow: 2 }) }],
      ["feather", { ...base, input: inpaint({ feather: 3 }) }],
      ["inpaint strength", { ...base, input: inpaint({ strength: 0.7 }) }],
      ["keep_unmasked", { ...base, input: inpaint({ keep_unmasked: false }) }],
      [
        "the mask from alpha",
        {
          ...base,
          input: input({ inpaint: { image: { file: "product" }, mask_from: "alpha" } }),
          images: images({ inpaint_mask: null }),
        },
      ],
      ["the detector", { ...base, input: input({ softedge: { image: { file: "photo" }, detector: "hed" } }) }],
      ["softedge strength", { ...base, input: input({ softedge: { image: { file: "photo" }, detector: "pidinet", strength: 1 } }) }],
      ["the same image as an edge map", { ...base, input: input({ softedge: { edge_map: { file: "photo" } } }) }],
      ["no inpaint", { ...base, input: input({ inpaint: undefined }), images: images({ inpaint_image: null, inpaint_mask: null }) }],
      ["no softedge", { ...base, input: input({ softedge: undefined }), images: images({ softedge_image: null }) }],
      ["an inpaint intermediate", { ...base, input: input({ return_intermediates: ["inpaint_mask"] }) }],
      ["an output size", { ...base, input: input({ width: 192 }) }],
      ["the reference's keypoints rather than the inpaint image's face", { ...base, input: input({ keypoints: { type: "reference" } }) }],
      // Issue 15: the same pixels labelled otherwise are other bytes, and a prompt-free output must never serve one with it.
      ["only the IPTC label", { ...base, input: input({ provenance: { embed: "iptc" } }) }],
      ["no label", { ...base, input: input({ provenance: { embed: "none" } }) }],
      ["the prompt included", { ...base, input: input({ provenance: { include_prompt: true } }) }],
    ];
    const baseKey = await resultCacheKey(base);
    const keys = new Map<string, string>([[baseKey, "the base job"]]);
    for (const [what, parts] of variants) {
      const key = await resultCacheKey(parts);
      expect(keys.get(key), what).toBeUndefined();
      keys.set(key, what);
    }
  });

  it("is the same for the same bytes however they were sent", async () => {
    const asUploads = input({
      inpaint: { image: { upload_id: "upl_00000000000000000000000000" }, mask: { url: "https://example.com/m.png" } },
      softedge: { image: { upload_id: "upl_11111111111111111111111111" }, detector: "pidinet" },
    });
    expect(await resultCacheKey({ ...base, input: asUploads })).toBe(await resultCacheKey(base));
  });

  it("is what it was before issue 14 for a job without its inputs, its parameters now with the provenance request", async () => {
    const plain = {
      ...base,
      input: input({ inpaint: undefined, softedge: undefined }),
      images: { reference: [image(1)], keypoint_image: null },
    };
    // The key as createJob computed it before these inputs existed.
    const { reference_images: _refs, ...params } = plain.input;
    const before = await sha256Hex(
      canonicalJson({ owner: "o", bundle: base.bundle, params, seed: 7, references: [image(1).sha256], keypoint_image: null }),
    );
    expect(await resultCacheKey(plain)).toBe(before);
  });

  it("is not what it was before issue 15: outputs cached unlabelled never serve a job that asks for labels", async () => {
    const plain = {
      ...base,
      input: input({ inpaint: undefined, softedge: undefined }),
      images: { reference: [image(1)], keypoint_image: null },
    };
    const { reference_images: _refs, provenance: _asked, ...params } = plain.input;
    const unlabelled = await sha256Hex(
      canonicalJson({ owner: "o", bundle: base.bundle, params, seed: 7, references: [image(1).sha256], keypoint_image: null }),
    );
    expect(await resultCacheKey(plain)).not.toBe(unlabelled);
  });
});
