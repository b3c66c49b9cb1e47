import { env, SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BLOB_RELEASE_GRACE_MS, storeInputBlobs, sweepReleasedBlobs } from "../../edge/src/jobs/input-blobs.js";
import { r2Keys } from "../../edge/src/jobs/types.js";
import { api, BASE, createKey, installPeer, pngOf, testEnv, tinyJob } from "./helpers.js";

/**
 * A face photo is biometric data: none may stay in R2 without a record that deletes it.
 * Every way job creation can refuse leaves the owner's part of the bucket as it was,
 * at the latest once the grace period of pending releases is over.
 */
let peer: ReturnType<typeof installPeer>;
beforeEach(() => {
  peer = installPeer();
});
afterEach(() => peer.restore());

const freshOwner = () => `o${crypto.randomUUID().slice(0, 8)}`;
const bucketOf = async (owner: string) =>
  (
    await Promise.all(
      [`blobs/${owner}/`, `jobs/${owner}/`, `uploads/${owner}/`].map(async (prefix) =>
        (await env.FILES.list({ prefix })).objects.map((o) => o.key),
      ),
    )
  )
    .flat()
    .sort();
const afterGrace = () => sweepReleasedBlobs(testEnv, Date.now() + BLOB_RELEASE_GRACE_MS + 60_000);

function submit(key: string, request: unknown, files: Record<string, Uint8Array>) {
  const form = new FormData();
  form.set("request", JSON.stringify(request));
  for (const [name, bytes] of Object.entries(files)) form.set(name, new File([bytes as BlobPart], `${name}.png`, { type: "image/png" }));
  return SELF.fetch(`${BASE}/v1/jobs`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: form });
}
const codeOf = async (res: Response) => ({ status: res.status, code: ((await res.json()) as { code: string }).code });

describe("job creation refused", () => {
  it("stores no input on any refusal path, and what an accepted job stored stays", async () => {
    const owner = freshOwner();
    const { key } = await createKey(owner);
    const face = pngOf(512, 512, 1);
    const pending = (await (
      await api("/v1/uploads", key, { method: "POST", json: { content_type: "image/png", bytes: 1000 } })
    ).json()) as { id: string };
    const refusals: Array<[string, () => Promise<Response>, { status: number; code: string }]> = [
      [
        "a later file reference names no part",
        () => submit(key, tinyJob({}, { reference_images: [{ file: "face" }, { file: "missing" }] }), { face }),
        { status: 400, code: "invalid_multipart" },
      ],
      [
        "a later reference URL cannot be fetched",
        () => submit(key, tinyJob({}, { reference_images: [{ file: "face" }, { url: "http://127.0.0.1:9/face.png" }] }), { face }),
        { status: 422, code: "input_fetch_failed" },
      ],
      [
        "a later image is no image",
        () =>
          submit(key, tinyJob({}, { reference_images: [{ file: "face" }, { file: "junk" }] }), {
            face,
            junk: new TextEncoder().encode("not an image at all"),
          }),
        { status: 415, code: "unsupported_image_format" },
      ],
      [
        "the pose image is an upload not yet uploaded",
        () => submit(key, tinyJob({}, { keypoints: { type: "pose_image", image: { upload_id: pending.id } } }), { face }),
        { status: 409, code: "upload_not_ready" },
      ],
      ["a model limit", () => submit(key, tinyJob({}, { width: 72 }), { face }), { status: 422, code: "parameter_out_of_range" }],
    ];
    const before = await bucketOf(owner);
    for (const [why, send, expected] of refusals) {
      expect(await codeOf(await send()), why).toEqual(expected);
      expect(await bucketOf(owner), why).toEqual(before);
    }
    // Accepted: its face is stored, recorded by the job, and kept by the sweep.
    expect((await submit(key, tinyJob(), { face })).status).toBe(201);
    const accepted = await bucketOf(owner);
    expect(accepted).toHaveLength(before.length + 1);
    await afterGrace();
    expect(await bucketOf(owner)).toEqual(accepted);
  });

  it("stores nothing for a job refused by the in-flight cap, which is reserved before any input is stored", async () => {
    const owner = freshOwner();
    const { key } = await createKey(owner);
    let created = 0;
    for (let i = 0; ; i++) {
      const res = await submit(key, tinyJob({}, { seed: i }), { face: pngOf(512, 512, 100) });
      if (res.status !== 201) {
        expect(await codeOf(res)).toEqual({ status: 429, code: "too_many_jobs_in_flight" });
        break;
      }
      created++;
    }
    expect(created).toBeGreaterThan(0);
    const before = await bucketOf(owner);
    const refused = await submit(key, tinyJob({}, { seed: 999 }), { face: pngOf(512, 512, 101) }); // a new face: it would be a new blob
    expect(await codeOf(refused)).toEqual({ status: 429, code: "too_many_jobs_in_flight" });
    expect(await bucketOf(owner)).toEqual(before);
  });

  it("records an input before it is stored, so a creation that stops after storing leaves a blob the sweep deletes", async () => {
    const owner = freshOwner();
    const bytes = pngOf(512, 512, 7);
    const image = {
      key: r2Keys.blob(owner, "a".repeat(64)),
      content_type: "image/png",
      sha256: "a".repeat(64),
      bytes: bytes.byteLength,
      width: 512,
      height: 512,
    };
    // As createJob does, then nothing: the isolate died, or the job object refused to be created.
    await storeInputBlobs(testEnv, owner, [{ image, bytes }]);
    expect(await env.DB.prepare(`SELECT owner_id FROM blob_releases WHERE r2_key = ?`).bind(image.key).first()).toEqual({
      owner_id: owner,
    });
    expect(await bucketOf(owner)).toEqual([image.key]);
    await afterGrace();
    expect(await bucketOf(owner)).toEqual([]);
  });
});

describe("an upload URL", () => {
  it("takes one file: a second PUT of other bytes gets 409 and the first file stays; the same bytes again are a replay", async () => {
    const owner = freshOwner();
    const { key } = await createKey(owner);
    const first = pngOf(512, 512, 1);
    const second = pngOf(512, 512, 2);
    const upload = (await (
      await api("/v1/uploads", key, { method: "POST", json: { content_type: "image/png", bytes: first.byteLength } })
    ).json()) as { id: string; upload_url: string };
    const put = (bytes: Uint8Array) =>
      SELF.fetch(upload.upload_url, { method: "PUT", headers: { "content-type": "image/png" }, body: bytes as BufferSource });
    expect((await put(first)).status).toBe(201);
    const stored = await bucketOf(owner);
    const refused = await put(second);
    expect(await codeOf(refused)).toEqual({ status: 409, code: "upload_already_complete" });
    expect((await put(first)).status).toBe(200);
    const after = (await (await api(`/v1/uploads/${upload.id}`, key)).json()) as { sha256: string };
    expect(r2Keys.blob(owner, after.sha256)).toBe(stored[0]);
    await afterGrace(); // the upload is live: its blob stays, and the refused bytes were never stored
    expect(await bucketOf(owner)).toEqual(stored);
  });
});
