import { describe, expect, it } from "vitest";
import { api, createKey, multipartJob, tinyJob } from "./helpers.js";

/**
 * What the document declares is what the server accepts, on the points schemathesis'
 * positive-data check found apart (seed 424242): the models on offer, the shape of a
 * cursor, the image references of each body, the sides' multiple. The schemathesis run
 * (test/reliability/fuzz/run-schemathesis.ts) holds the rest against the live stack.
 */
type Json = Record<string, any>;
const documentOf = async () => (await (await api("/v1/openapi.json", null)).json()) as Json;
/** A schema with its component reference followed (the job request is the deployment's own component). */
const resolved = (doc: Json, schema: Json): Json =>
  schema.$ref ? { ...doc.components.schemas[(schema.$ref as string).split("/").pop()!], ...schema } : schema;
const jobBodies = (doc: Json) => {
  const content = doc.paths["/v1/jobs"].post.requestBody.content as Record<string, { schema: Json }>;
  return Object.fromEntries(Object.entries(content).map(([type, media]) => [type, { ...media, schema: resolved(doc, media.schema) }]));
};

describe("the OpenAPI document, as this deployment serves it", () => {
  it("offers exactly the models the server serves (enabled and with a GPU pool), defaulting to one of them", async () => {
    const doc = await documentOf();
    const model = jobBodies(doc)["application/json"]!.schema.properties.model;
    const served = ((await (await api("/v1/models", null)).json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);
    expect(model.enum).toEqual(served);
    expect(served).toContain(model.default);
    // A request without a model gets that default.
    const { key } = await createKey(`o${crypto.randomUUID().slice(0, 8)}`);
    const { model: _omitted, ...noModel } = tinyJob();
    const res = await multipartJob(key, noModel);
    expect(res.status).toBe(201);
    expect(((await res.json()) as { model: string }).model).toBe(model.default);
  });

  it("states the served model's bounds: sides in its multiple (JSON Schema multipleOf), its steps, its samplers", async () => {
    const input = jobBodies(await documentOf())["application/json"]!.schema.properties.input.properties;
    expect(input.width).toMatchObject({ minimum: 64, maximum: 256, multipleOf: 64 });
    expect(input.height).toMatchObject({ minimum: 64, maximum: 256, multipleOf: 64 });
    // No JSON Schema default: an inpaint job's size defaults to its image's; the description states both rules.
    for (const side of [input.width, input.height]) {
      expect(side).not.toHaveProperty("default");
      expect(side.description).toMatch(/the inpaint image.s, rounded .*; without inpaint, 64$/);
    }
    expect(input.steps).toMatchObject({ maximum: 50, default: 4 });
  });

  it("takes no part references in a JSON body, and names its one file part in the multipart form", async () => {
    const doc = await documentOf();
    const bodies = jobBodies(doc);
    const ref = bodies["application/json"]!.schema.properties.input.properties.reference_images.items.$ref as string;
    const refSchema = doc.components.schemas[ref.split("/").pop()!] as Json;
    expect(JSON.stringify(refSchema)).not.toContain('"file"');
    const form = bodies["multipart/form-data"]!;
    expect(form.schema.required).toEqual(["request", "face"]);
    expect(form.schema.additionalProperties).toBe(false);
    expect(resolved(doc, form.schema.properties.request).properties.input.properties.reference_images.items.properties.file.const).toBe(
      "face",
    );
  });

  it("states a cursor's shape, and any cursor of that shape is one to page on from", async () => {
    const doc = await documentOf();
    const cursor = (doc.paths["/v1/jobs"].get.parameters as Json[]).find((p) => p.name === "cursor")!;
    const pattern = new RegExp(cursor.schema.pattern as string);
    const { key } = await createKey(`o${crypto.randomUUID().slice(0, 8)}`);
    for (const c of [`0.job_${"0".repeat(26)}`, `999999999999999.job_${"z".repeat(26)}`]) {
      expect(pattern.test(c)).toBe(true);
      expect((await api(`/v1/jobs?cursor=${c}`, key)).status, c).toBe(200);
    }
  });

  it("links a created job and upload to the operations that take their ids", async () => {
    const doc = await documentOf();
    const jobLinks = doc.paths["/v1/jobs"].post.responses["201"].links as Record<string, { operationId: string }>;
    expect(
      Object.values(jobLinks)
        .map((l) => l.operationId)
        .sort(),
    ).toEqual(["cancelJob", "deleteJob", "getJob", "getJobEvents", "listWebhookDeliveries"]);
    expect(doc.paths["/v1/uploads"].post.responses["201"].links.GetUpload.operationId).toBe("getUpload");
  });
});
