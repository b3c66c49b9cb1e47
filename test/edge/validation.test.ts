import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, BASE, createKey, multipartJob, pngOf, tinyJob } from "./helpers.js";

async function problem(res: Response) {
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return (await res.json()) as { code: string; status: number; errors?: Array<{ pointer: string; message: string }>; request_id: string };
}

describe("job input validation", () => {
  it.each([
    ["width not a multiple of 8", { width: 65 }, "/input/width"],
    ["steps above the API's limit", { steps: 101 }, "/input/steps"],
    ["negative guidance", { guidance: -1 }, "/input/guidance"],
    ["identity strength too high", { identity_strength: 2.5 }, "/input/identity_strength"],
    ["too many outputs", { num_outputs: 5 }, "/input/num_outputs"],
    ["seed out of range", { seed: 2 ** 32 }, "/input/seed"],
    ["empty prompt", { prompt: "   " }, "/input/prompt"],
    ["prompt too long", { prompt: "x".repeat(2001) }, "/input/prompt"],
    ["unknown sampler", { sampler: "ddim" }, "/input/sampler"],
    [
      "keypoint outside the image",
      {
        keypoints: {
          type: "points",
          points: [
            [10, 10],
            [20, 10],
            [15, 15],
            [12, 20],
            [64, 20],
          ],
        },
      },
      "/input/keypoints/points/4",
    ],
    ["unknown field", { strength: 1 }, "/input"],
    ["five reference images", { reference_images: Array(5).fill({ file: "face" }) }, "/input/reference_images"],
    [
      "an image ref with two sources",
      { reference_images: [{ file: "face", url: "https://example.com/a.png" }] },
      "/input/reference_images/0",
    ],
  ])("refuses %s with 422 and a pointer", async (_name, input, pointer) => {
    const { key } = await createKey("acme");
    const res = await multipartJob(key, tinyJob({}, input));
    expect(res.status).toBe(422);
    const body = await problem(res);
    expect(body.code).toBe("invalid_request");
    expect(body.errors!.map((e) => e.pointer)).toContain(pointer);
  });

  it("applies the model's narrower limits", async () => {
    const { key } = await createKey("acme");
    const res = await multipartJob(key, tinyJob({}, { width: 512, height: 512 }));
    expect(res.status).toBe(422);
    const body = await problem(res);
    expect(body.code).toBe("parameter_out_of_range");
    expect(body.errors!.map((e) => e.pointer)).toEqual(["/input/width", "/input/height", "/input/width"]);
  });

  it("fills omitted parameters with the model's defaults, then the API's", async () => {
    const { key } = await createKey("acme");
    const res = await multipartJob(key, { model: "ecomid-tiny", input: { reference_images: [{ file: "face" }], prompt: "p", seed: 3 } });
    expect(res.status).toBe(201);
    const job = (await res.json()) as { input: Record<string, unknown> };
    expect(job.input).toMatchObject({
      width: 64,
      height: 64,
      steps: 4,
      sampler: "euler",
      id_mode: "fidelity",
      output_format: "webp",
      num_outputs: 1,
    });
  });

  it("refuses sides that are not multiples of the model's side_multiple", async () => {
    const { key } = await createKey("acme");
    const body = await problem(await multipartJob(key, tinyJob({}, { width: 72 })));
    expect(body.code).toBe("parameter_out_of_range");
    expect(body.errors!.map((e) => e.pointer)).toEqual(["/input/width"]);
  });

  it("refuses a prompt longer than the model's CLIP window with 422 and a pointer, before any job exists; /v1/models states the limit", async () => {
    const models = (await (await SELF.fetch(`${BASE}/v1/models`)).json()) as {
      data: Array<{ id: string; limits: { max_prompt_tokens: number } }>;
    };
    const limit = models.data.find((m) => m.id === "ecomid-tiny")!.limits.max_prompt_tokens;
    expect(limit).toBe(75);
    const { key } = await createKey(`o${crypto.randomUUID().slice(0, 8)}`);
    const words = (n: number) => Array.from({ length: n }, () => "a").join(" "); // one CLIP token per word
    for (const field of ["prompt", "negative_prompt"]) {
      const res = await multipartJob(key, tinyJob({}, { [field]: words(limit + 1) }));
      expect(res.status, field).toBe(422);
      const body = await problem(res);
      expect(body.code).toBe("parameter_out_of_range");
      expect(body.errors).toEqual([
        expect.objectContaining({
          pointer: `/input/${field}`,
          message: expect.stringMatching(/76 CLIP tokens long; ecomid-tiny takes at most 75/),
        }),
      ]);
    }
    expect(((await (await api("/v1/jobs", key)).json()) as { data: unknown[] }).data).toEqual([]);
    expect((await multipartJob(key, tinyJob({}, { prompt: words(limit), negative_prompt: words(limit) }))).status).toBe(201);
  });

  it("refuses an unknown model", async () => {
    const { key } = await createKey("acme");
    const body = await problem(await multipartJob(key, tinyJob({ model: "sd15" })));
    expect(body.code).toBe("model_not_found");
  });

  it("refuses malformed JSON, a wrong content type and an oversized body before parsing", async () => {
    const { key } = await createKey("acme");
    const bad = await api("/v1/jobs", key, { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" });
    expect(bad.status).toBe(400);
    expect((await problem(bad)).code).toBe("invalid_json");
    const text = await api("/v1/jobs", key, { method: "POST", headers: { "content-type": "text/plain" }, body: "hi" });
    expect(text.status).toBe(415);
    const huge = await api("/v1/jobs", key, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pad: "x".repeat(300_000) }),
    });
    expect(huge.status).toBe(413);
    expect((await problem(huge)).code).toBe("payload_too_large");
  });

  it("refuses files that are not JPEG, PNG or WebP, and decompression bombs", async () => {
    const { key } = await createKey("acme");
    const gif = new TextEncoder().encode("GIF89a....");
    const notImage = await multipartJob(key, tinyJob(), gif);
    expect(notImage.status).toBe(415);
    const p = await problem(notImage);
    expect(p.code).toBe("unsupported_image_format");
    expect(p.errors![0]!.pointer).toBe("/input/reference_images/0");
    const bomb = await multipartJob(key, tinyJob(), pngOf(17000, 17000));
    expect(bomb.status).toBe(413);
    expect((await problem(bomb)).code).toBe("image_too_large");
  });

  it("refuses broken multipart bodies clearly", async () => {
    const { key } = await createKey("acme");
    const noRequest = new FormData();
    noRequest.set("face", new File([pngOf(8, 8) as BlobPart], "f.png"));
    const r1 = await SELF.fetch(`${BASE}/v1/jobs`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: noRequest });
    expect((await problem(r1)).code).toBe("invalid_multipart");
    const garbage = await SELF.fetch(`${BASE}/v1/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "multipart/form-data; boundary=zzz" },
      body: "--zzz\r\nnot a part",
    });
    expect(garbage.status).toBe(400);
    expect((await problem(garbage)).code).toBe("invalid_multipart");
    const missingFile = await multipartJob(key, tinyJob({}, { reference_images: [{ file: "other" }] }));
    expect((await problem(missingFile)).code).toBe("invalid_multipart");
  });

  it("refuses image and webhook URLs that point inside, or are not https", async () => {
    const { key } = await createKey("acme");
    for (const url of [
      "https://10.0.0.1/a.png",
      "https://169.254.169.254/latest",
      "http://example.com/a.png",
      "https://[::ffff:7f00:1]/a.png",
      "https://user:pw@example.com/a.png",
    ]) {
      const res = await api("/v1/jobs", key, { method: "POST", json: tinyJob({}, { reference_images: [{ url }] }) });
      expect(res.status, url).toBe(422);
      const body = await problem(res);
      expect(body.code, url).toBe("url_not_allowed");
    }
    const hook = await multipartJob(key, tinyJob({ webhook: { url: "https://192.168.1.1/hook" } }));
    const body = await problem(hook);
    expect(body.code).toBe("url_not_allowed");
    expect(body.errors![0]!.pointer).toBe("/webhook/url");
  });
});
