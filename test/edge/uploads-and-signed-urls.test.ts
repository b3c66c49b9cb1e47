import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { signFileUrl, presignR2Get } from "../../edge/src/lib/signed-urls.js";
import { api, BASE, createKey, pngOf } from "./helpers.js";

const SECRET = "test-signing-secret-0123456789abcdef";

async function startUpload(key: string, bytes: number, contentType = "image/png") {
  const res = await api("/v1/uploads", key, { method: "POST", json: { content_type: contentType, bytes } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; upload_url: string; status: string };
}

describe("direct uploads through signed URLs", () => {
  it("takes the file at the signed PUT URL, then a job can use the upload id", async () => {
    const { key } = await createKey("acme");
    const image = pngOf(512, 512);
    const up = await startUpload(key, image.byteLength);
    expect(up.status).toBe("pending");
    const put = await SELF.fetch(up.upload_url, { method: "PUT", headers: { "content-type": "image/png" }, body: image as BufferSource });
    expect(put.status).toBe(201);
    const after = (await (await api(`/v1/uploads/${up.id}`, key)).json()) as { status: string; width: number; sha256: string };
    expect(after).toMatchObject({ status: "complete", width: 512 });
    expect(after.sha256).toMatch(/^[0-9a-f]{64}$/);
    const job = await api("/v1/jobs", key, {
      method: "POST",
      json: { model: "ecomid-tiny", input: { reference_images: [{ upload_id: up.id }], prompt: "p", width: 64, height: 64 } },
    });
    expect(job.status).toBe(201);
  });

  it("refuses a job naming an upload that was never uploaded, or another owner's upload", async () => {
    const { key } = await createKey("acme");
    const { key: other } = await createKey("rival");
    const up = await startUpload(key, 100);
    const body = (uploadId: string) => ({
      model: "ecomid-tiny",
      input: { reference_images: [{ upload_id: uploadId }], prompt: "p", width: 64, height: 64 },
    });
    const pending = await api("/v1/jobs", key, { method: "POST", json: body(up.id) });
    expect(pending.status).toBe(409);
    expect(((await pending.json()) as { code: string }).code).toBe("upload_not_ready");
    const stolen = await api("/v1/jobs", other, { method: "POST", json: body(up.id) });
    expect(stolen.status).toBe(404);
    expect(((await stolen.json()) as { code: string }).code).toBe("not_found");
    expect((await api(`/v1/uploads/${up.id}`, other)).status).toBe(404);
  });

  it("refuses a wrong content type, a body larger than declared and a non-image", async () => {
    const { key } = await createKey("acme");
    const up = await startUpload(key, 100);
    const wrongType = await SELF.fetch(up.upload_url, {
      method: "PUT",
      headers: { "content-type": "image/jpeg" },
      body: pngOf(8, 8) as BufferSource,
    });
    expect(wrongType.status).toBe(415);
    const tooBig = await SELF.fetch(up.upload_url, { method: "PUT", headers: { "content-type": "image/png" }, body: new Uint8Array(101) });
    expect(tooBig.status).toBe(413);
    const text = await SELF.fetch(up.upload_url, { method: "PUT", headers: { "content-type": "image/png" }, body: new Uint8Array(50) });
    expect(text.status).toBe(415);
    expect(((await text.json()) as { code: string }).code).toBe("unsupported_image_format");
  });

  it("refuses forged, tampered, expired and wrong-method signatures", async () => {
    const { key } = await createKey("acme");
    const up = await startUpload(key, 1000);
    const tampered = up.upload_url.replace(/max=\d+/, "max=999999");
    const r1 = await SELF.fetch(tampered, { method: "PUT", headers: { "content-type": "image/png" }, body: pngOf(8, 8) as BufferSource });
    expect(r1.status).toBe(403);
    expect(((await r1.json()) as { code: string }).code).toBe("signature_invalid");
    const asGet = await SELF.fetch(up.upload_url);
    expect(asGet.status).toBe(403);
    const forged = await signFileUrl(BASE, "another-secret-0123456789abcdef0123", { method: "GET", key: "uploads/acme/x", expiresAt: 4e9 });
    expect((await SELF.fetch(forged)).status).toBe(403);
    const expired = await signFileUrl(BASE, SECRET, { method: "GET", key: "uploads/acme/x", expiresAt: Math.floor(Date.now() / 1000) - 1 });
    const r4 = await SELF.fetch(expired);
    expect(r4.status).toBe(403);
    expect(((await r4.json()) as { code: string }).code).toBe("signature_expired");
  });

  it("presigns R2 S3 GET URLs with SigV4 query parameters when credentials are configured", async () => {
    const url = new URL(
      await presignR2Get(
        { R2_ACCESS_KEY_ID: "AKIDEXAMPLE", R2_SECRET_ACCESS_KEY: "secret", R2_ACCOUNT_ID: "acct", R2_BUCKET: "files" } as never,
        "jobs/acme/job_1/outputs/a1/0.webp",
        600,
      ),
    );
    expect(url.host).toBe("acct.r2.cloudflarestorage.com");
    expect(url.pathname).toBe("/files/jobs/acme/job_1/outputs/a1/0.webp");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("600");
    expect(url.searchParams.get("X-Amz-Credential")).toMatch(/^AKIDEXAMPLE\/\d{8}\/auto\/s3\/aws4_request$/);
    expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
  });
});
