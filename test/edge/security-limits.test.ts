import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../edge/src/index.js";
import { AppError } from "../../edge/src/errors.js";
import { sniffImage } from "../../edge/src/lib/image-sniff.js";
import { MAX_JSON_BYTES } from "../../edge/src/lib/parse.js";
import { MAX_REQUEST_BYTES } from "../../edge/src/middleware/body-limit.js";
import { API_LIMITS } from "@ecomid/shared/api";
import { api, BASE, createKey, multipartJob, pngOf, tinyJob, webpOf } from "./helpers.js";

const freshOwner = () => `o${crypto.randomUUID().slice(0, 8)}`;
const codeOf = async (res: Response) => ((await res.json()) as { code: string }).code;

/** A body that never ends, counting what the server pulled from it. */
function endlessBody(chunkBytes = 16 * 1024, fill = 0x20) {
  const counter = { pulled: 0, canceled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        counter.pulled += chunkBytes;
        controller.enqueue(new Uint8Array(chunkBytes).fill(fill));
      },
      cancel() {
        counter.canceled = true;
      },
    },
    { highWaterMark: 0 },
  ); // nothing is pulled until someone reads
  return { stream, counter };
}

/** Straight into the worker (no network hop), so headers such as Content-Length reach it exactly as written. */
async function direct(request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, env as never, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe("request size limits", () => {
  it("refuses a declared Content-Length over the largest body any route takes, before authentication and unread", async () => {
    for (const path of ["/v1/jobs", "/v1/uploads", "/files/uploads/o/x?method=PUT&exp=1&sig=0", "/internal/gpu/jobs/job_x/callbacks"]) {
      const { stream, counter } = endlessBody();
      const res = await direct(
        new Request(`${BASE}${path}`, {
          method: path.startsWith("/files") ? "PUT" : "POST",
          headers: { "content-length": String(MAX_REQUEST_BYTES + 1), "content-type": "application/json" },
          body: stream,
        }),
      );
      expect(res.status, path).toBe(413);
      expect(await codeOf(res), path).toBe("payload_too_large");
      expect(counter.pulled, path).toBe(0);
    }
    const malformed = await direct(new Request(`${BASE}/v1/jobs`, { method: "POST", headers: { "content-length": "12abc" }, body: "{}" }));
    expect(malformed.status).toBe(400);
  });

  it("refuses a route's own declared limit before reading: a JSON body over 256 KiB", async () => {
    const { key } = await createKey(freshOwner());
    const { stream, counter } = endlessBody();
    const res = await direct(
      new Request(`${BASE}/v1/jobs`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "content-length": String(MAX_JSON_BYTES + 1) },
        body: stream,
      }),
    );
    expect(res.status).toBe(413);
    expect(counter.pulled).toBe(0);
  });

  it("counts a chunked body (no Content-Length) while it streams and cuts it off at the limit", async () => {
    const { key } = await createKey(freshOwner());
    const { stream, counter } = endlessBody();
    const res = await SELF.fetch(`${BASE}/v1/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await codeOf(res)).toBe("payload_too_large");
    // It stopped reading: what was pulled is the limit plus what was in flight, not the endless rest.
    expect(counter.pulled).toBeGreaterThan(MAX_JSON_BYTES);
    expect(counter.pulled).toBeLessThan(MAX_JSON_BYTES * 8);
  });

  it("cuts off a chunked upload at the size its signed PUT URL allows", async () => {
    const { key } = await createKey(freshOwner());
    const up = (await (await api("/v1/uploads", key, { method: "POST", json: { content_type: "image/png", bytes: 4096 } })).json()) as {
      upload_url: string;
    };
    const { stream, counter } = endlessBody(1024);
    const res = await SELF.fetch(up.upload_url, {
      method: "PUT",
      headers: { "content-type": "image/png" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(counter.pulled).toBeLessThan(API_LIMITS.maxImageBytes);
  });
});

/** A JPEG: SOI, an APP1 holding an EXIF-style thumbnail with its own small SOF, then the real frame header. */
function jpegOf(width: number, height: number, thumbnail = true): Uint8Array {
  const sof = (w: number, h: number) => [
    0xff,
    0xc0,
    0x00,
    0x11,
    0x08,
    h >> 8,
    h & 255,
    w >> 8,
    w & 255,
    0x03,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
  ];
  const thumb = [0xff, 0xd8, ...sof(16, 16), 0xff, 0xd9];
  const app1Body = [...new TextEncoder().encode("Exif\0\0"), ...thumb];
  const app1 = thumbnail ? [0xff, 0xe1, (app1Body.length + 2) >> 8, (app1Body.length + 2) & 255, ...app1Body] : [];
  const app0 = [0xff, 0xe0, 0x00, 0x10, ...new TextEncoder().encode("JFIF\0"), 1, 1, 0, 0, 1, 0, 1, 0, 0];
  return new Uint8Array([0xff, 0xd8, ...app0, ...app1, ...sof(width, height), 0xff, 0xd9]);
}
function webpVp8Of(width: number, height: number): Uint8Array {
  const b = new Uint8Array(30);
  b.set(new TextEncoder().encode("RIFF"), 0);
  b.set(new TextEncoder().encode("WEBPVP8 "), 8);
  b.set([0x10, 0, 0, 0, 0, 0, 0, 0x9d, 0x01, 0x2a, width & 255, (width >> 8) & 0x3f, height & 255, (height >> 8) & 0x3f], 16);
  return b;
}
function webpVp8lOf(width: number, height: number): Uint8Array {
  const b = new Uint8Array(30);
  b.set(new TextEncoder().encode("RIFF"), 0);
  b.set(new TextEncoder().encode("WEBPVP8L"), 8);
  const bits = ((width - 1) & 0x3fff) | (((height - 1) & 0x3fff) << 14);
  b.set([0x10, 0, 0, 0, 0x2f, bits & 255, (bits >> 8) & 255, (bits >> 16) & 255, (bits >>> 24) & 255], 16);
  return b;
}

describe("decompression bombs: the pixel count is read from the header before anything decodes", () => {
  const bombs: Array<[string, Uint8Array]> = [
    ["PNG 20000x20000", pngOf(20000, 20000)],
    ["PNG 4294967295x1 (overflow bait)", pngOf(0xffffffff, 1)],
    ["JPEG 65500x65500 behind a small EXIF thumbnail", jpegOf(65500, 65500)],
    ["JPEG 8000x5001", jpegOf(8000, 5001, false)],
    ["WebP VP8X 16384x16384", webpOf(16384, 16384)],
    ["WebP VP8 16383x16383", webpVp8Of(16383, 16383)],
    ["WebP VP8L 16384x16384", webpVp8lOf(16384, 16384)],
  ];

  it.each(bombs)("sniffImage refuses %s", (_name, bytes) => {
    expect(bytes.byteLength).toBeLessThan(200);
    expect(() => sniffImage(bytes)).toThrowError(AppError);
    try {
      sniffImage(bytes);
    } catch (e) {
      expect((e as AppError).code).toBe("image_too_large");
    }
  });

  it("reads the real sizes of small headers of every kind", () => {
    expect(sniffImage(jpegOf(640, 480))).toMatchObject({ contentType: "image/jpeg", width: 640, height: 480 });
    expect(sniffImage(webpVp8Of(300, 200))).toMatchObject({ contentType: "image/webp", width: 300, height: 200 });
    expect(sniffImage(webpVp8lOf(300, 200))).toMatchObject({ contentType: "image/webp", width: 300, height: 200 });
    // 8000 x 5000 is exactly the limit.
    expect(sniffImage(jpegOf(8000, 5000, false)).width).toBe(8000);
    const noStartCode = webpVp8Of(300, 200);
    noStartCode[23] = 0;
    expect(() => sniffImage(noStartCode)).toThrow(/start code/);
  });

  it("refuses each bomb at job creation with image_too_large, as a file part and as an upload", async () => {
    const { key } = await createKey(freshOwner());
    for (const [name, bytes] of bombs) {
      const res = await multipartJob(key, tinyJob(), bytes);
      expect(res.status, name).toBe(413);
      expect(await codeOf(res), name).toBe("image_too_large");
    }
    const up = (await (await api("/v1/uploads", key, { method: "POST", json: { content_type: "image/jpeg", bytes: 200 } })).json()) as {
      upload_url: string;
    };
    const put = await SELF.fetch(up.upload_url, {
      method: "PUT",
      headers: { "content-type": "image/jpeg" },
      body: jpegOf(65500, 65500) as BufferSource,
    });
    expect(put.status).toBe(413);
    expect(await codeOf(put)).toBe("image_too_large");
  });

  it("refuses a bomb fetched from an image URL", async () => {
    const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(new Request(input, init).url);
      if (url.host === "cloudflare-dns.com")
        return Response.json({ Status: 0, Answer: url.searchParams.get("type") === "A" ? [{ type: 1, data: "93.184.216.34" }] : [] });
      return new Response(webpOf(16384, 16384) as BodyInit);
    });
    try {
      const { key } = await createKey(freshOwner());
      const res = await api("/v1/jobs", key, {
        method: "POST",
        json: tinyJob({}, { reference_images: [{ url: "https://photos.example.com/bomb.webp" }] }),
      });
      expect(res.status).toBe(413);
      expect(await codeOf(res)).toBe("image_too_large");
    } finally {
      spy.mockRestore();
    }
  });
});
afterEach(() => vi.restoreAllMocks());
