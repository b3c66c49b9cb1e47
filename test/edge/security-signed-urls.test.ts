import { SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { signFileUrl, verifyFileUrl } from "../../edge/src/lib/signed-urls.js";
import { api, BASE, completeJob, createKey, installPeer, multipartJob, pngOf, runDispatch, tinyJob, webpOf } from "./helpers.js";

const SECRET = "test-signing-secret-0123456789abcdef";
const freshOwner = () => `o${crypto.randomUUID().slice(0, 8)}`;
const codeOf = async (res: Response) => ((await res.json()) as { code: string }).code;
const now = () => Math.floor(Date.now() / 1000);

let peer: ReturnType<typeof installPeer>;
beforeEach(() => {
  peer = installPeer();
});
afterEach(() => peer.restore());

function withParam(url: string, name: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(name, value);
  return u.toString();
}
function withPath(url: string, path: string): string {
  const u = new URL(url);
  u.pathname = path;
  return u.toString();
}
const putWebp = (url: string, body: Uint8Array = webpOf(64, 64), type = "image/webp") =>
  SELF.fetch(url, { method: "PUT", headers: { "content-type": type }, body: body as BufferSource });

/** A dispatched job: its GPU request (output PUT URLs, input GET URLs). */
async function dispatched(key: string) {
  const job = (await (await multipartJob(key, tinyJob({}, { num_outputs: 2 }))).json()) as { id: string };
  await runDispatch(job.id);
  return peer.dispatched.find((d) => d.job_id === job.id)!;
}

describe("signed file URLs", () => {
  it("an output PUT URL writes its own object only: another index, job, owner or an upload path is refused", async () => {
    const owner = freshOwner();
    const { key } = await createKey(owner);
    const a = await dispatched(key);
    const b = await dispatched(key);
    const put = a.outputs[0]!.put_url;
    const path = new URL(put).pathname;
    const targets = [
      path.replace(/\/0\.webp$/, "/1.webp"), // the sibling output
      path.replace(a.job_id, b.job_id), // another job's output
      path.replace(`/${owner}/`, "/someone-else/"), // another owner's namespace
      path.replace(/\/a1\//, "/a2/"), // a later attempt's slot
      `/files/uploads/${owner}/upl_x`, // an upload
      `/files/blobs/${owner}/${"0".repeat(64)}`, // a stored input
      path + "/../1.webp",
      path.replace("/files/", "/files/%2e%2e/"),
    ];
    for (const target of targets) {
      const res = await putWebp(withPath(put, target));
      // A dot segment that climbs out of /files/ leaves no file route at all (404); the rest fail the MAC.
      const expected = new URL(withPath(put, target)).pathname.startsWith("/files/") ? 403 : 404;
      expect(res.status, target).toBe(expected);
      expect(await codeOf(res), target).toBe(expected === 403 ? "signature_invalid" : "not_found");
    }
    // The URL itself still works for its own object.
    expect((await putWebp(put)).status).toBe(201);
  });

  it("an output PUT URL cannot replace what it wrote once: other bytes are refused, the download is unchanged", async () => {
    const { key } = await createKey(freshOwner());
    const request = await dispatched(key);
    const put = request.outputs[0]!.put_url;
    expect((await putWebp(put)).status).toBe(201);
    const other = webpOf(32, 32);
    const again = await putWebp(put, other);
    expect(again.status).toBe(409);
    expect(again.headers.get("content-type")).toBe("application/problem+json");
    const k = decodeURIComponent(new URL(put).pathname.slice("/files/".length));
    const read = await signFileUrl(BASE, SECRET, { method: "GET", key: k, expiresAt: now() + 60 });
    expect(new Uint8Array(await (await SELF.fetch(read)).arrayBuffer())).toEqual(webpOf(64, 64));
  });

  it("refuses a changed method, expiry, size cap, content type or a signature made with another key", async () => {
    const { key } = await createKey(freshOwner());
    const { outputs } = await dispatched(key);
    const put = outputs[0]!.put_url;
    const exp = Number(new URL(put).searchParams.get("exp"));
    const tampered = [
      withParam(put, "exp", String(exp + 3600)),
      withParam(put, "max", "999999999"),
      withParam(put, "ct", "image/png"),
      withParam(put, "method", "GET"),
      withParam(
        put,
        "sig",
        new URL(put).searchParams.get("sig")!.replace(/^./, (c) => (c === "0" ? "1" : "0")),
      ),
      withParam(put, "sig", ""),
    ];
    for (const url of tampered) {
      const res = await putWebp(url, webpOf(64, 64), new URL(url).searchParams.get("ct") ?? "image/webp");
      expect(res.status, url).toBe(403);
      expect(await codeOf(res), url).toBe("signature_invalid");
    }
    const u = new URL(put);
    const grant = {
      method: "PUT" as const,
      key: decodeURIComponent(u.pathname.slice("/files/".length)),
      expiresAt: exp,
      maxBytes: Number(u.searchParams.get("max")),
      contentType: "image/webp",
    };
    // The same grant under another secret: the key is swapped, the MAC no longer verifies.
    const otherKey = await signFileUrl(BASE, "another-signing-secret-0123456789abcdef", grant);
    expect((await putWebp(otherKey)).status).toBe(403);
    // Our own secret reproduces it: the check is the MAC, not a lookup.
    expect(await signFileUrl(BASE, SECRET, grant)).toBe(put);
  });

  it("a PUT URL cannot read and a GET URL cannot write", async () => {
    const { key } = await createKey(freshOwner());
    const request = await dispatched(key);
    const readWithPut = await SELF.fetch(request.outputs[0]!.put_url);
    expect(readWithPut.status).toBe(403);
    expect(await codeOf(readWithPut)).toBe("signature_invalid");
    const headWithPut = await SELF.fetch(request.outputs[0]!.put_url, { method: "HEAD" });
    expect(headWithPut.status).toBe(403);

    // The input GET URL the GPU got, and a client's output download URL, refuse a write.
    const inputUrl = request.spec.reference_images[0]!.url;
    expect((await SELF.fetch(inputUrl)).status).toBe(200);
    const overwriteInput = await SELF.fetch(inputUrl, {
      method: "PUT",
      headers: { "content-type": "image/png" },
      body: pngOf(8, 8) as BufferSource,
    });
    expect(overwriteInput.status).toBe(403);
    await completeJob(request);
    const job = (await (await api(`/v1/jobs/${request.job_id}`, key)).json()) as { output: Array<{ url: string }> };
    const download = job.output[0]!.url;
    expect((await SELF.fetch(download)).status).toBe(200);
    const overwriteOutput = await putWebp(download);
    expect(overwriteOutput.status).toBe(403);
    expect(await codeOf(overwriteOutput)).toBe("signature_invalid");
    // The download is unchanged.
    expect(new Uint8Array(await (await SELF.fetch(download)).arrayBuffer())).toEqual(webpOf(64, 64));
  });

  it("expires: a correctly signed URL past its expiry is refused as expired, GET and PUT alike", async () => {
    const { key } = await createKey(freshOwner());
    const { outputs, job_id } = await dispatched(key);
    const k = decodeURIComponent(new URL(outputs[0]!.put_url).pathname.slice("/files/".length));
    const expiredPut = await signFileUrl(BASE, SECRET, {
      method: "PUT",
      key: k,
      expiresAt: now() - 1,
      maxBytes: 1 << 20,
      contentType: "image/webp",
    });
    const res = await putWebp(expiredPut);
    expect(res.status).toBe(403);
    expect(await codeOf(res)).toBe("signature_expired");
    const expiredGet = await signFileUrl(BASE, SECRET, { method: "GET", key: k, expiresAt: now() - 1 });
    expect(await codeOf(await SELF.fetch(expiredGet))).toBe("signature_expired");
    expect(job_id).toMatch(/^job_/);
  });

  it("answers malformed paths and parameters with problem+json, never a 5xx", async () => {
    const good = await signFileUrl(BASE, SECRET, { method: "GET", key: "jobs/o/j/outputs/a1/0.webp", expiresAt: now() + 60 });
    for (const url of [
      withPath(good, "/files/%E0%A4%A"),
      withPath(good, "/files/jobs/o/%ZZ/0.webp"),
      withPath(good, "/files/"),
      withParam(good, "exp", "soon"),
      withParam(good, "method", "DELETE"),
      `${BASE}/files/jobs/o/j/outputs/a1/0.webp`,
    ]) {
      const res = await SELF.fetch(url);
      expect(res.status, url).toBe(403);
      expect(res.headers.get("content-type"), url).toBe("application/problem+json");
    }
  });

  it("refuses keys or content types with control characters, which could shift the canonical string", async () => {
    const grant = { method: "GET" as const, key: "jobs/o/j\n1", expiresAt: now() + 60 };
    const url = new URL(await signFileUrl(BASE, SECRET, grant));
    expect((await verifyFileUrl(url, "GET", SECRET)).ok).toBe(false);
    const ct = new URL(
      await signFileUrl(BASE, SECRET, { method: "PUT", key: "jobs/o/j/0.webp", expiresAt: now() + 60, contentType: "image/webp\n1" }),
    );
    expect((await verifyFileUrl(ct, "PUT", SECRET)).ok).toBe(false);
  });
});
