import { env, SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CreateJobRequest, type Model } from "@ecomid/shared/api";
import { sha256Hex as sha256 } from "@ecomid/shared/crypto";
import type { GpuJobRequest } from "@ecomid/shared/protocol";
import { getConfig } from "../../edge/src/config/config.js";
import { AppError } from "../../edge/src/errors.js";
import { createJob } from "../../edge/src/jobs/create-job.js";
import { BLOB_RELEASE_GRACE_MS, sweepReleasedBlobs } from "../../edge/src/jobs/input-blobs.js";
import { api, BASE, createKey, gpuCallback, installPeer, pngOf, pngWith, runDispatch, testEnv, webpOf } from "./helpers.js";
import { alphaOf } from "../../edge/src/lib/image-sniff.js";

/**
 * Issue 14's inputs at the edge: an inpaint image and mask, and a softedge photo or edge
 * map, taken like reference images (parts, uploads), checked from their headers, stored
 * only once every check passed, and handed to the GPU function signed.
 */
let peer: ReturnType<typeof installPeer>;
beforeEach(() => {
  peer = installPeer();
});
afterEach(() => peer.restore());

const freshOwner = () => `o${crypto.randomUUID().slice(0, 8)}`;
const face = pngOf(512, 512, 1);

/** A tiny-model job with no size: an inpaint job then takes its image's. */
function job(input: Record<string, unknown>) {
  return {
    model: "ecomid-tiny",
    input: { reference_images: [{ file: "face" }], prompt: "a model wearing the necklace", steps: 4, seed: 7, ...input },
  };
}

function submit(key: string, request: unknown, files: Record<string, Uint8Array>) {
  const form = new FormData();
  form.set("request", JSON.stringify(request));
  for (const [name, bytes] of Object.entries(files)) form.set(name, new File([bytes as BlobPart], `${name}.png`, { type: "image/png" }));
  return SELF.fetch(`${BASE}/v1/jobs`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: form });
}

async function upload(key: string, bytes: Uint8Array): Promise<string> {
  const res = await api("/v1/uploads", key, { method: "POST", json: { content_type: "image/png", bytes: bytes.byteLength } });
  const up = (await res.json()) as { id: string; upload_url: string };
  const put = await SELF.fetch(up.upload_url, { method: "PUT", headers: { "content-type": "image/png" }, body: bytes as BufferSource });
  expect(put.status).toBe(201);
  return up.id;
}

/** A value the test cannot go on without. */
function present<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`no ${what}`);
  return value;
}

/** The request the GPU pool received for a created job. */
async function dispatched(jobId: string): Promise<GpuJobRequest> {
  await runDispatch(jobId);
  const request = peer.dispatched.find((d) => d.job_id === jobId);
  if (!request) throw new Error(`job ${jobId} was not dispatched`);
  return request;
}

/** A signed input URL serves exactly these bytes. */
async function expectServes(url: string, bytes: Uint8Array) {
  const res = await SELF.fetch(url);
  expect(res.status).toBe(200);
  expect(await sha256(new Uint8Array(await res.arrayBuffer()))).toBe(await sha256(bytes));
}

/** A baseline JPEG's header: SOI and a SOF0 frame of `width` x `height` (JPEG has no alpha channel). */
function jpegOf(width: number, height: number): Uint8Array {
  return new Uint8Array([
    0xff,
    0xd8,
    0xff,
    0xc0,
    0x00,
    0x11,
    0x08,
    height >> 8,
    height & 255,
    width >> 8,
    width & 255,
    3,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
  ]);
}

describe("inpaint jobs", () => {
  it("take the image and mask as parts, default their size to the image's, and dispatch both signed", async () => {
    const { key } = await createKey(freshOwner());
    const product = pngOf(200, 130, 2);
    const mask = pngOf(200, 130, 3);
    const res = await submit(
      key,
      job({ inpaint: { image: { file: "product" }, mask: { file: "mask" } }, return_intermediates: ["inpaint_mask"] }),
      { face, product, mask },
    );
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; input: Record<string, any> };
    // ecomid-tiny sides are multiples of 64: 200 / 64 = 3.1 -> 192, 130 / 64 = 2.03 -> 128.
    expect(created.input).toMatchObject({ width: 192, height: 128 });
    // The EcomXL Inpaint model card's conditioning scale, and the contract's grow/feather/keep defaults.
    expect(created.input.inpaint).toMatchObject({ mask_from: "mask", grow: 0, feather: 8, strength: 0.5, keep_unmasked: true });
    // No keypoints given: the face goes where the inpaint image has one (the reference's keypoints where it has none).
    expect(created.input.keypoints).toEqual({ type: "inpaint_image" });

    const request = await dispatched(created.id);
    expect(request.spec).toMatchObject({ width: 192, height: 128, keypoints: { type: "inpaint_image" } });
    const inpaint = present(request.spec.inpaint, "inpaint in the spec");
    expect(inpaint).toMatchObject({ mask_from: "mask", grow: 0, feather: 8, strength: 0.5, keep_unmasked: true });
    expect(inpaint.image.sha256).toBe(await sha256(product));
    expect(inpaint.mask?.sha256).toBe(await sha256(mask));
    await expectServes(inpaint.image.url, product);
    await expectServes(present(inpaint.mask, "mask").url, mask);
    expect(request.intermediates.map((i) => i.kind)).toEqual(["inpaint_mask"]);
    expect(request.spec.softedge).toBeUndefined();
  });

  it("keep a size the client gives, side by side, and keypoints the client gives", async () => {
    const { key } = await createKey(freshOwner());
    const product = pngOf(200, 130, 4);
    const res = await submit(
      key,
      job({ width: 64, keypoints: { type: "reference" }, inpaint: { image: { file: "product" }, mask: { file: "mask" } } }),
      { face, product, mask: pngOf(200, 130, 5) },
    );
    expect(res.status).toBe(201);
    const created = (await res.json()) as { input: { width: number; height: number; keypoints: unknown } };
    expect(created.input).toMatchObject({ width: 64, height: 128, keypoints: { type: "reference" } });
  });

  it("take the mask from the alpha of an RGBA, grey + alpha or tRNS PNG, by upload id in a JSON body", async () => {
    const { key } = await createKey(freshOwner());
    for (const [what, product] of [
      ["RGBA", pngWith(128, 128, { colourType: 6, salt: 6 })],
      ["grey + alpha", pngWith(128, 128, { colourType: 4, salt: 7 })],
      ["palette with tRNS", pngWith(128, 128, { colourType: 3, trns: true, salt: 8 })],
    ] as const) {
      const res = await api("/v1/jobs", key, {
        method: "POST",
        json: {
          model: "ecomid-tiny",
          input: {
            reference_images: [{ upload_id: await upload(key, face) }],
            prompt: "p",
            inpaint: { image: { upload_id: await upload(key, product) }, mask_from: "alpha", grow: 3, keep_unmasked: false },
          },
        },
      });
      expect(res.status, what).toBe(201);
      const request = await dispatched(((await res.json()) as { id: string }).id);
      expect(request.spec.inpaint, what).toMatchObject({ mask_from: "alpha", mask: null, grow: 3, keep_unmasked: false });
      await expectServes(present(request.spec.inpaint, "inpaint in the spec").image.url, product);
    }
  });
});

describe("a mask the GPU function finds empty or full once decoded", () => {
  it("fails the job with that code, not retried, and releases its stored images", async () => {
    const owner = freshOwner();
    const { key } = await createKey(owner);
    for (const code of ["mask_empty", "mask_full"] as const) {
      const res = await submit(key, job({ inpaint: { image: { file: "product" }, mask: { file: "mask" } } }), {
        face,
        product: pngOf(64, 64, code.length),
        mask: pngOf(64, 64, code.length + 100),
      });
      const created = (await res.json()) as { id: string };
      const request = await dispatched(created.id);
      const answer = await gpuCallback(request, {
        type: "failed",
        attempt: 1,
        error: { code, message: "the mask marks no pixel to generate", retryable: false },
      });
      expect(answer.status).toBe(200);
      const failed = (await (await api(`/v1/jobs/${created.id}`, key)).json()) as {
        status: string;
        attempt: number;
        error: { code: string };
      };
      expect(failed).toMatchObject({ status: "failed", attempt: 1, error: { code } });
    }
  });
});

describe("softedge jobs", () => {
  it("name the default detector for a photo, and dispatch it signed", async () => {
    const { key } = await createKey(freshOwner());
    const photo = pngOf(64, 64, 9);
    const res = await submit(
      key,
      job({ width: 64, height: 64, softedge: { image: { file: "photo" } }, return_intermediates: ["edge_map"] }),
      {
        face,
        photo,
      },
    );
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; input: Record<string, any> };
    // The EcomXL Softedge model card's detector (PidiNet) and conditioning scale.
    expect(created.input.softedge).toEqual({ image: { file: "photo" }, detector: "pidinet", strength: 0.6 });
    const request = await dispatched(created.id);
    expect(request.spec.softedge).toMatchObject({ detector: "pidinet", strength: 0.6 });
    expect(request.spec.keypoints).toEqual({ type: "reference" });
    await expectServes((request.spec.softedge as { image: { url: string } }).image.url, photo);
    expect(request.intermediates.map((i) => i.kind)).toEqual(["edge_map"]);
  });

  it("take an edge map as is, beside an inpaint image and mask, with HED named where a photo is given", async () => {
    const { key } = await createKey(freshOwner());
    const edges = pngOf(64, 64, 10);
    const res = await submit(
      key,
      job({
        inpaint: { image: { file: "product" }, mask: { file: "mask" }, strength: 0.9 },
        softedge: { edge_map: { file: "edges" }, strength: 1.2 },
      }),
      { face, product: pngOf(256, 256, 11), mask: pngOf(256, 256, 12), edges },
    );
    expect(res.status).toBe(201);
    const request = await dispatched(((await res.json()) as { id: string }).id);
    expect(request.spec.softedge).toEqual({ edge_map: expect.objectContaining({ sha256: await sha256(edges) }), strength: 1.2 });
    expect(request.spec.inpaint?.strength).toBe(0.9);
    expect(request.spec).toMatchObject({ width: 256, height: 256 });

    const hed = await submit(key, job({ width: 64, height: 64, softedge: { image: { file: "photo" }, detector: "hed" } }), {
      face,
      photo: pngOf(64, 64, 13),
    });
    expect(hed.status).toBe(201);
    expect((await dispatched(((await hed.json()) as { id: string }).id)).spec.softedge).toMatchObject({ detector: "hed" });
  });
});

describe("refusals of the new inputs", () => {
  const bucketOf = async (owner: string) =>
    (
      await Promise.all(
        [`blobs/${owner}/`, `jobs/${owner}/`].map(async (prefix) => (await env.FILES.list({ prefix })).objects.map((o) => o.key)),
      )
    )
      .flat()
      .sort();
  const afterGrace = () => sweepReleasedBlobs(testEnv, Date.now() + BLOB_RELEASE_GRACE_MS + 60_000);

  it("answer each bad request with its code and pointer, and store nothing", async () => {
    const owner = freshOwner();
    const { key } = await createKey(owner);
    const product = pngOf(128, 128, 20);
    const inpaint = (o: Record<string, unknown>) => job({ inpaint: { image: { file: "product" }, ...o } });
    const cases: Array<[string, unknown, Record<string, Uint8Array>, { status: number; code: string; pointer: string }]> = [
      [
        "a mask of another size",
        inpaint({ mask: { file: "mask" } }),
        { face, product, mask: pngOf(128, 64, 21) },
        { status: 422, code: "mask_size_mismatch", pointer: "/input/inpaint/mask" },
      ],
      [
        "alpha asked of an RGB PNG",
        inpaint({ mask_from: "alpha" }),
        { face, product },
        { status: 422, code: "mask_missing_alpha", pointer: "/input/inpaint/image" },
      ],
      [
        "alpha asked of an RGB PNG whose IDAT comes without tRNS",
        inpaint({ mask_from: "alpha" }),
        { face, product: pngWith(128, 128, { colourType: 3, trns: false, salt: 22 }) },
        { status: 422, code: "mask_missing_alpha", pointer: "/input/inpaint/image" },
      ],
      [
        "alpha asked of a JPEG",
        inpaint({ mask_from: "alpha" }),
        { face, product: jpegOf(128, 128) },
        { status: 422, code: "mask_missing_alpha", pointer: "/input/inpaint/image" },
      ],
      [
        "alpha asked of a lossy WebP without VP8X alpha",
        inpaint({ mask_from: "alpha" }),
        { face, product: webpOf(128, 128) },
        { status: 422, code: "mask_missing_alpha", pointer: "/input/inpaint/image" },
      ],
      [
        "no mask and no mask_from alpha",
        inpaint({}),
        { face, product },
        { status: 422, code: "invalid_request", pointer: "/input/inpaint/mask" },
      ],
      [
        "a mask beside mask_from alpha",
        inpaint({ mask: { file: "mask" }, mask_from: "alpha" }),
        { face, product, mask: pngOf(128, 128, 23) },
        { status: 422, code: "invalid_request", pointer: "/input/inpaint/mask" },
      ],
      [
        "a grow beyond the API's bound",
        inpaint({ mask: { file: "mask" }, grow: 65 }),
        { face, product, mask: pngOf(128, 128, 24) },
        { status: 422, code: "invalid_request", pointer: "/input/inpaint/grow" },
      ],
      [
        "both a photo and an edge map",
        job({ width: 64, height: 64, softedge: { image: { file: "photo" }, edge_map: { file: "edges" } } }),
        { face, photo: pngOf(64, 64, 25), edges: pngOf(64, 64, 26) },
        { status: 422, code: "invalid_request", pointer: "/input/softedge" },
      ],
      [
        "neither a photo nor an edge map",
        job({ width: 64, height: 64, softedge: { strength: 1 } }),
        { face },
        { status: 422, code: "invalid_request", pointer: "/input/softedge" },
      ],
      [
        "a detector for an edge map",
        job({ width: 64, height: 64, softedge: { edge_map: { file: "edges" }, detector: "hed" } }),
        { face, edges: pngOf(64, 64, 27) },
        { status: 422, code: "invalid_request", pointer: "/input/softedge/detector" },
      ],
      [
        "inpaint image keypoints without inpaint",
        job({ width: 64, height: 64, keypoints: { type: "inpaint_image" } }),
        { face },
        { status: 422, code: "invalid_request", pointer: "/input/keypoints/type" },
      ],
      [
        "an edge map intermediate without softedge",
        job({ width: 64, height: 64, return_intermediates: ["edge_map"] }),
        { face },
        { status: 422, code: "invalid_request", pointer: "/input/return_intermediates/0" },
      ],
      [
        "an inpaint mask intermediate without inpaint",
        job({ width: 64, height: 64, return_intermediates: ["keypoint_image", "inpaint_mask"] }),
        { face },
        { status: 422, code: "invalid_request", pointer: "/input/return_intermediates/1" },
      ],
    ];
    const before = await bucketOf(owner);
    for (const [why, request, files, expected] of cases) {
      const res = await submit(key, request, files);
      const body = (await res.json()) as { code: string; errors?: Array<{ pointer: string }> };
      expect({ status: res.status, code: body.code }, why).toEqual({ status: expected.status, code: expected.code });
      expect(
        body.errors?.map((e) => e.pointer),
        why,
      ).toContain(expected.pointer);
      expect(await bucketOf(owner), why).toEqual(before);
    }
    await afterGrace();
    expect(await bucketOf(owner)).toEqual(before);
  });

  it("refuse keypoint points outside a size taken from the inpaint image, storing nothing", async () => {
    const owner = freshOwner();
    const { key } = await createKey(owner);
    // 1000 x 40 -> 1024 (brought down to ecomid-tiny's 256) x 64: a keypoint at y = 100 lies below it.
    const points = [
      [10, 10],
      [20, 10],
      [15, 20],
      [10, 100],
      [20, 30],
    ];
    const res = await submit(
      key,
      job({ keypoints: { type: "points", points }, inpaint: { image: { file: "product" }, mask: { file: "mask" } } }),
      {
        face,
        product: pngOf(1000, 40, 30),
        mask: pngOf(1000, 40, 31),
      },
    );
    const body = (await res.json()) as { code: string; errors: Array<{ pointer: string; message: string }> };
    expect(res.status).toBe(422);
    expect(body.code).toBe("parameter_out_of_range");
    expect(body.errors).toEqual([
      expect.objectContaining({ pointer: "/input/keypoints/points/3", message: expect.stringContaining("256x64") }),
    ]);
    expect(await bucketOf(owner)).toEqual([]);
  });

  it("refuse what a model's bundle lacks with capability_not_supported, listing what it offers, before fetching anything", async () => {
    const owner = freshOwner();
    const { key: _key, id: keyId } = await createKey(owner);
    const config = getConfig(testEnv);
    const tiny = present(
      config.models.find((m) => m.id === "ecomid-tiny"),
      "ecomid-tiny",
    );
    const withoutInpaint: Model = { ...tiny, capabilities: { controlnets: ["identitynet", "softedge"], edge_detectors: ["pidinet"] } };
    const narrowed = { ...config, models: [withoutInpaint] };
    const attempt = async (input: Record<string, unknown>) => {
      try {
        await createJob({
          env: testEnv,
          config: narrowed,
          auth: { keyId, ownerId: owner, scopes: ["jobs:write"] },
          // A URL that cannot be fetched: the refusal must come before any image is.
          request: CreateJobRequest.parse({
            model: "ecomid-tiny",
            input: { reference_images: [{ url: "http://127.0.0.1:9/face.png" }], prompt: "p", width: 64, height: 64, ...input },
          }),
          files: new Map(),
        });
      } catch (e) {
        if (e instanceof AppError) return e;
        throw e;
      }
      throw new Error("the job was created");
    };
    const url = { url: "http://127.0.0.1:9/x.png" };
    const inpaintRefusal = await attempt({ inpaint: { image: url, mask: url } });
    expect(inpaintRefusal).toMatchObject({ code: "capability_not_supported", status: 422 });
    expect(inpaintRefusal.options.extensions).toEqual({ capabilities: withoutInpaint.capabilities });
    expect(inpaintRefusal.options.errors).toEqual([expect.objectContaining({ pointer: "/input/inpaint" })]);
    expect(inpaintRefusal.detail).toContain("offers the ControlNets identitynet, softedge and the edge detectors pidinet");

    const hedRefusal = await attempt({ softedge: { image: url, detector: "hed" } });
    expect(hedRefusal.code).toBe("capability_not_supported");
    expect(hedRefusal.options.errors).toEqual([expect.objectContaining({ pointer: "/input/softedge/detector" })]);
    // What it offers passes this check and goes on to fetch the images (which fail here).
    expect((await attempt({ softedge: { image: url } })).code).toBe("input_fetch_failed");
    expect(await bucketOf(owner)).toEqual([]);
  });
});

describe("an image's alpha channel, from its header", () => {
  /** A WebP with a VP8X chunk whose flags byte (RFC 9649, 2.7) is `flags`. */
  const vp8x = (flags: number) => {
    const b = webpOf(64, 64);
    b[20] = flags;
    return b;
  };
  /** A lossless WebP: VP8L signature 0x2f, then 14-bit width-1, 14-bit height-1, alpha_is_used, version (RFC 9649, 3.2). */
  const vp8l = (alphaUsed: boolean) => {
    const b = new Uint8Array(30);
    b.set(new TextEncoder().encode("RIFF"), 0);
    b.set(new TextEncoder().encode("WEBPVP8L"), 8);
    b[20] = 0x2f;
    new DataView(b.buffer).setUint32(21, 63 | (63 << 14) | ((alphaUsed ? 1 : 0) << 28), true);
    return b;
  };

  it("is read from PNG colour types and tRNS, WebP VP8X flags and VP8L's alpha bit; JPEG has none", () => {
    expect(alphaOf(pngWith(8, 8, { colourType: 6 }))).toBe("alpha");
    expect(alphaOf(pngWith(8, 8, { colourType: 4 }))).toBe("alpha");
    expect(alphaOf(pngWith(8, 8, { colourType: 2, trns: true }))).toBe("alpha");
    expect(alphaOf(pngWith(8, 8, { colourType: 2, trns: false }))).toBe("opaque");
    // No IDAT in the bytes given: a tRNS could still come.
    expect(alphaOf(pngWith(8, 8, { colourType: 3 }).subarray(0, 40))).toBe("unknown");
    expect(alphaOf(vp8x(0x10))).toBe("alpha");
    expect(alphaOf(vp8x(0x20))).toBe("opaque");
    expect(alphaOf(vp8l(true))).toBe("alpha");
    expect(alphaOf(vp8l(false))).toBe("opaque");
    expect(alphaOf(jpegOf(8, 8))).toBe("opaque");
  });
});
