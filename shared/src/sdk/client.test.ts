import { describe, expect, it } from "vitest";
import { EcomidClient } from "./client.js";
import { EcomidApiError, EcomidResponseError, parseRetryAfter } from "./errors.js";
import { fakeJob, problem, sendJson, fakeApiPerTest } from "./fake-api.test-util.js";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
// A base URL with a trailing path and slash, as users paste it.
const setup = fakeApiPerTest("/v1/");

describe("EcomidClient errors", () => {
  it("turns a problem response into an EcomidApiError with code, detail, request id, field errors and Retry-After", async () => {
    const { client } = await setup((_req, res) =>
      sendJson(
        res,
        422,
        problem(422, "invalid_request", "/input/width: width must be a multiple of 8", {
          errors: [{ pointer: "/input/width", code: "custom", message: "width must be a multiple of 8" }],
        }),
        { "retry-after": "7" },
      ),
    );
    const error = await client.getJob("job_x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EcomidApiError);
    expect(error).toMatchObject({
      status: 422,
      code: "invalid_request",
      requestId: "req_test",
      retryAfter: 7,
      detail: "/input/width: width must be a multiple of 8",
    });
    expect((error as EcomidApiError).errors[0]?.pointer).toBe("/input/width");
  });

  it("maps a non-problem body (a proxy's page) to unexpected_response", async () => {
    const { client } = await setup((_req, res) => res.writeHead(502, { "x-request-id": "req_proxy" }).end("<html>bad gateway</html>"));
    await expect(client.getJob("job_x")).rejects.toMatchObject({ status: 502, code: "unexpected_response", requestId: "req_proxy" });
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    expect(parseRetryAfter("3")).toBe(3);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 5_000)).toBe(5);
    expect(parseRetryAfter("soon")).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
  });
});

describe("EcomidClient requests", () => {
  it("sends the key, JSON and the Idempotency-Key, and parses the job", async () => {
    const { client, fake } = await setup((_req, res) => sendJson(res, 201, fakeJob()));
    const job = await client.createJob(
      { model: "ecomid-tiny", input: { reference_images: [{ upload_id: "upl_x" }], prompt: "p" } },
      { idempotencyKey: "order-42" },
    );
    expect(job.id).toMatch(/^job_/);
    const seen = fake.requests[0]!;
    expect(seen.url).toBe("/v1/jobs");
    expect(seen.headers.authorization).toBe("Bearer ek_test_abc");
    expect(seen.headers["idempotency-key"]).toBe("order-42");
    expect(seen.headers["content-type"]).toBe("application/json");
    // Left-out fields stay out, so the server applies the model's defaults.
    expect(JSON.parse(seen.body.toString())).toEqual({
      model: "ecomid-tiny",
      input: { reference_images: [{ upload_id: "upl_x" }], prompt: "p" },
    });
  });

  it("builds multipart with the JSON in a request part and each file beside it", async () => {
    const { client, fake } = await setup((_req, res) => sendJson(res, 201, fakeJob()));
    await client.createJob({ input: { reference_images: [{ file: "face" }], prompt: "p" } }, { files: { face: PNG } });
    const seen = fake.requests[0]!;
    const form = await new Response(new Uint8Array(seen.body), {
      headers: { "content-type": String(seen.headers["content-type"]) },
    }).formData();
    expect(JSON.parse(String(form.get("request")))).toMatchObject({ input: { reference_images: [{ file: "face" }] } });
    const face = form.get("face") as File;
    expect(face.type).toBe("image/png");
    expect(new Uint8Array(await face.arrayBuffer())).toEqual(PNG);
  });

  it("sends an inpaint and softedge job's images as parts named in its JSON, like reference images", async () => {
    const { client, fake } = await setup((_req, res) => sendJson(res, 201, fakeJob()));
    const mask = new Uint8Array([...PNG, 9]);
    await client.createJob(
      {
        input: {
          reference_images: [{ file: "face" }],
          prompt: "p",
          inpaint: { image: { file: "product" }, mask: { file: "mask" }, keep_unmasked: true },
          softedge: { edge_map: { upload_id: "upl_x" } },
          return_intermediates: ["inpaint_mask", "edge_map"],
        },
      },
      { files: { face: PNG, product: PNG, mask } },
    );
    const [seen] = fake.requests;
    if (!seen) throw new Error("no request reached the fake API");
    const form = await new Response(new Uint8Array(seen.body), {
      headers: { "content-type": String(seen.headers["content-type"]) },
    }).formData();
    expect(JSON.parse(String(form.get("request")))).toMatchObject({
      input: { inpaint: { image: { file: "product" }, mask: { file: "mask" } }, softedge: { edge_map: { upload_id: "upl_x" } } },
    });
    expect(new Uint8Array(await (form.get("mask") as File).arrayBuffer())).toEqual(mask);
    expect((form.get("product") as File).type).toBe("image/png");
  });

  it("reads each model's capabilities from /v1/models, and refuses a model list without them", async () => {
    const capabilities = { controlnets: ["identitynet", "inpaint"], edge_detectors: [] };
    const model = {
      id: "m",
      object: "model",
      bundle_version: "m@1",
      description: "",
      fixture: false,
      defaults: {},
      limits: {
        min_side: 64,
        max_side: 256,
        max_pixels: 65536,
        side_multiple: 64,
        max_steps: 50,
        max_prompt_tokens: 75,
        samplers: ["euler"],
      },
      provenance: { default: "c2pa+iptc", embeds: ["c2pa+iptc", "iptc", "none"] },
      licences: [],
    };
    const { client } = await setup((req, res) =>
      sendJson(res, 200, { object: "list", data: [req.url?.includes("old") ? model : { ...model, capabilities }] }),
    );
    expect((await client.listModels())[0]?.capabilities).toEqual(capabilities);
    const old = new EcomidClient({ baseUrl: `${client.baseUrl}/old`, apiKey: "k" });
    await expect(old.listModels()).rejects.toBeInstanceOf(EcomidResponseError);
  });

  it("uploads a file: POST /v1/uploads with its size and type, then PUT to the signed URL without the key", async () => {
    const { client, fake } = await setup((req, res) => {
      if (req.method === "POST") {
        return sendJson(res, 201, {
          id: "upl_1",
          object: "upload",
          status: "pending",
          content_type: "image/png",
          bytes: PNG.length,
          upload_url: "/files/u?sig=1",
          upload_url_expires_at: "2026-11-26T08:15:00.000Z",
          width: null,
          height: null,
          sha256: null,
          created_at: "2026-11-26T08:00:00.000Z",
          expires_at: "2026-11-27T08:00:00.000Z",
        });
      }
      sendJson(res, 201, { bytes: PNG.length });
    });
    expect(await client.uploadFile(PNG)).toBe("upl_1");
    expect(JSON.parse(fake.requests[0]!.body.toString())).toEqual({ content_type: "image/png", bytes: PNG.length });
    const put = fake.requests[1]!;
    expect([put.method, put.url, put.headers["content-type"], put.headers.authorization]).toEqual([
      "PUT",
      "/files/u?sig=1",
      "image/png",
      undefined,
    ]);
    expect(new Uint8Array(put.body)).toEqual(PNG);
  });

  it("lists jobs across cursor pages", async () => {
    const { client, fake } = await setup((req, res) => {
      const second = req.url.includes("cursor=c2");
      sendJson(res, 200, {
        object: "list",
        data: [fakeJob({ id: second ? "job_b" : "job_a" })],
        has_more: !second,
        next_cursor: second ? null : "c2",
      });
    });
    const ids: string[] = [];
    for await (const job of client.listJobs({ status: "succeeded", limit: 1 })) ids.push(job.id);
    expect(ids).toEqual(["job_a", "job_b"]);
    expect(fake.requests.map((r) => r.url)).toEqual(["/v1/jobs?status=succeeded&limit=1", "/v1/jobs?status=succeeded&limit=1&cursor=c2"]);
  });

  it("refuses a 2xx body that does not match the schema", async () => {
    const { client } = await setup((_req, res) => sendJson(res, 200, { id: "job_x" }));
    await expect(client.getJob("job_x")).rejects.toThrow(/does not match the schema/);
  });

  it("downloads an output through the redirect", async () => {
    const { client } = await setup((req, res) => {
      if (req.url.startsWith("/v1/")) return res.writeHead(302, { location: "/files/out?sig=1" }).end();
      res.writeHead(200, { "content-type": "image/webp" }).end(Buffer.from("RIFF"));
    });
    const out = await client.downloadOutput("job_x", 0);
    expect([out.contentType, new TextDecoder().decode(out.bytes)]).toEqual(["image/webp", "RIFF"]);
  });
});
