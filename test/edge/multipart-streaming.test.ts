import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import worker from "../../edge/src/index.js";
import { readJobForm } from "../../edge/src/lib/multipart.js";
import { API_LIMITS } from "@ecomid/shared/api";
import { BASE, createKey, installPeer, pngOf, tinyJob } from "./helpers.js";

/**
 * A job's multipart body is read as it streams: the `request` part first, then only the
 * file parts it names, each held once. A part that is refused is refused on its headers,
 * before its body is read.
 */
let peer: ReturnType<typeof installPeer>;
beforeEach(() => {
  peer = installPeer();
});
afterEach(() => peer.restore());

const BOUNDARY = "----streaming-test";
const encoder = new TextEncoder();
const freshOwner = () => `o${crypto.randomUUID().slice(0, 8)}`;
const partHead = (name: string, filename?: string) =>
  encoder.encode(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"\r\nContent-Type: image/png` : ""}\r\n\r\n`,
  );
const part = (name: string, content: Uint8Array | string, filename?: string) => [
  partHead(name, filename),
  typeof content === "string" ? encoder.encode(content) : content,
  encoder.encode("\r\n"),
];
const closing = encoder.encode(`--${BOUNDARY}--\r\n`);

/** A body of these pieces, then (when `endless`) a stream that never ends; counts what the server pulled. */
function body(pieces: Uint8Array[], endless: boolean) {
  const counter = { pulled: 0, canceled: false };
  let next = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const chunk = next < pieces.length ? pieces[next++]! : endless ? new Uint8Array(64 * 1024) : null;
        if (!chunk) return controller.close();
        counter.pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
      cancel() {
        counter.canceled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, counter };
}

async function submit(key: string, stream: ReadableStream<Uint8Array>, contentLength?: number) {
  const ctx = createExecutionContext();
  const headers: Record<string, string> = { authorization: `Bearer ${key}`, "content-type": `multipart/form-data; boundary=${BOUNDARY}` };
  if (contentLength !== undefined) headers["content-length"] = String(contentLength);
  const response = await worker.fetch(
    new Request(`${BASE}/v1/jobs`, { method: "POST", headers, body: stream, duplex: "half" } as RequestInit),
    env as never,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { ...((await response.json()) as { code: string; detail: string }), status: response.status };
}

/** A PNG header padded to `bytes`: the edge reads only the header. */
function bigPng(bytes: number, salt: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out.set(pngOf(512, 512, salt));
  return out;
}

describe("a job's multipart body", () => {
  it("refuses a part the request does not name on its headers, without reading its body", async () => {
    const { key } = await createKey(freshOwner());
    const { stream, counter } = body(
      [...part("request", JSON.stringify(tinyJob())), ...part("face", pngOf(512, 512), "face.png"), partHead("extra", "extra.png")],
      true,
    );
    const res = await submit(key, stream);
    expect(res).toMatchObject({ status: 400, code: "invalid_multipart" });
    expect(res.detail).toMatch(/"extra" is not named by the request/);
    expect(counter.pulled).toBeLessThan(64 * 1024);
    expect(counter.canceled).toBe(true);
  });

  it("wants the request part first: a file before it is refused unread", async () => {
    const { key } = await createKey(freshOwner());
    const { stream, counter } = body([partHead("face", "face.png")], true);
    const res = await submit(key, stream);
    expect(res).toMatchObject({ status: 400, code: "invalid_multipart" });
    expect(res.detail).toMatch(/first part must be the text part named "request"/);
    expect(counter.pulled).toBeLessThan(64 * 1024);
  });

  it("takes at most the request and an image for each a job can name: four references, a pose image, an inpaint image and mask, a softedge image", async () => {
    const { key } = await createKey(freshOwner());
    const names = Array.from({ length: 9 }, (_, i) => `p${i}`);
    const request = JSON.stringify(tinyJob({}, { reference_images: names.map((file) => ({ file })) }));
    const { stream, counter } = body(
      [...part("request", request), ...names.flatMap((n, i) => part(n, pngOf(512, 512, i), `${n}.png`)), closing],
      false,
    );
    const res = await submit(key, stream);
    expect(res).toMatchObject({ status: 400, code: "invalid_multipart" });
    expect(res.detail).toMatch(/at most 9 parts/);
    expect(counter.canceled).toBe(true);
  });

  it("refuses a file part over 15 MB while it streams", async () => {
    const { key } = await createKey(freshOwner());
    const { stream, counter } = body([...part("request", JSON.stringify(tinyJob())), partHead("face", "face.png")], true);
    const res = await submit(key, stream);
    expect(res).toMatchObject({ status: 413, code: "image_too_large" });
    expect(counter.pulled).toBeLessThan(API_LIMITS.maxImageBytes + 256 * 1024);
  });

  it("accepts the largest: two 15 MB images and a third, 30 MB in all, each stored whole, with and without a Content-Length", async () => {
    for (const declared of [true, false]) {
      const owner = freshOwner();
      const { key } = await createKey(owner);
      const sizes = [15_000_000, 15_000_000, 1_000_000];
      const request = JSON.stringify(tinyJob({}, { reference_images: sizes.map((_, i) => ({ file: `face${i}` })) }));
      const pieces = [...part("request", request), ...sizes.flatMap((n, i) => part(`face${i}`, bigPng(n, i), `face${i}.png`)), closing];
      const res = await submit(key, body(pieces, false).stream, declared ? pieces.reduce((n, p) => n + p.byteLength, 0) : undefined);
      expect(res.status).toBe(201);
      const stored = (await env.FILES.list({ prefix: `blobs/${owner}/` })).objects.map((o) => o.size).sort((a, b) => a - b);
      expect(stored).toEqual([...sizes].sort((a, b) => a - b));
    }
  });

  it("reads the same parts however the body is split into chunks, boundaries across chunks included", async () => {
    const face = pngOf(512, 512, 3);
    const pose = new Uint8Array(5000).map((_, i) => (i * 7) % 256);
    pose.set(encoder.encode(`\r\n--${BOUNDARY.slice(0, -1)}`), 100); // almost a delimiter, inside the data
    const pieces = [
      ...part("request", JSON.stringify(tinyJob())),
      ...part("face", face, "face.png"),
      ...part("pose", pose, "pose.png"),
      closing,
    ];
    const whole = new Uint8Array(pieces.reduce((n, p) => n + p.byteLength, 0));
    pieces.reduce((at, p) => (whole.set(p, at), at + p.byteLength), 0);
    const same = (a: Uint8Array, b: Uint8Array) => a.byteLength === b.byteLength && a.every((v, i) => v === b[i]);
    for (const size of [1, 2, 3, 7, 19, 20, 21, 64, 1000, whole.byteLength]) {
      const chunks = Array.from({ length: Math.ceil(whole.byteLength / size) }, (_, i) => whole.subarray(i * size, (i + 1) * size));
      const form = await readJobForm(
        new Request(BASE, {
          method: "POST",
          headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}` },
          body: body(chunks, false).stream,
          duplex: "half",
        } as RequestInit),
        {
          maxBytes: 1e6,
          maxJsonBytes: 1e5,
          maxFileBytes: 1e5,
          maxParts: 3,
          fileNames: () => new Set(["face", "pose"]),
        },
      );
      expect(form.request, `chunks of ${size}`).toEqual(tinyJob());
      expect([...form.files.keys()]).toEqual(["face", "pose"]);
      expect(same(form.files.get("face")!, face), `chunks of ${size}`).toBe(true);
      expect(same(form.files.get("pose")!, pose), `chunks of ${size}`).toBe(true);
    }
  });
});
