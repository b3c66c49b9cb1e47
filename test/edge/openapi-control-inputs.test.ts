import { describe, expect, it } from "vitest";
import type { Model } from "@ecomid/shared/api";
import { getConfig } from "../../edge/src/config/config.js";
import { deploymentComponents } from "../../edge/src/openapi/deployment.js";
import { api, testEnv } from "./helpers.js";

/**
 * The document states issue 14's inputs as the server takes them: their fields, bounds and
 * defaults, the image references each body may use, the intermediates, each model's
 * capabilities, and the new refusal codes.
 */
type Json = Record<string, any>;
const documentOf = async () => (await (await api("/v1/openapi.json", null)).json()) as Json;
const component = (doc: Json, schema: Json): Json =>
  schema.$ref ? doc.components.schemas[(schema.$ref as string).split("/").at(-1) ?? ""] : schema;
const jobInputOf = (doc: Json, type: "application/json" | "multipart/form-data") => {
  const media = doc.paths["/v1/jobs"].post.requestBody.content[type].schema;
  const body = component(doc, type === "application/json" ? media : media.properties.request);
  return body.properties.input.properties as Json;
};

describe("the OpenAPI document's inpaint and softedge inputs", () => {
  it("states each field with its bounds and defaults (the EcomXL model cards' strengths)", async () => {
    const input = jobInputOf(await documentOf(), "application/json");
    const inpaint = input.inpaint.properties;
    expect(inpaint.mask_from).toMatchObject({ enum: ["mask", "alpha"], default: "mask" });
    expect(inpaint.grow).toMatchObject({ type: "integer", minimum: 0, maximum: 64, default: 0 });
    expect(inpaint.feather).toMatchObject({ type: "integer", minimum: 0, maximum: 64, default: 8 });
    expect(inpaint.strength).toMatchObject({ minimum: 0, maximum: 2, default: 0.5 });
    expect(inpaint.keep_unmasked).toMatchObject({ type: "boolean", default: true });
    expect(input.inpaint.required).toEqual(["image"]);
    expect(input.inpaint.additionalProperties).toBe(false);
    expect(input.inpaint.description).toMatch(/required unless mask_from is alpha/);

    const softedge = input.softedge.properties;
    expect(softedge.detector).toMatchObject({ enum: ["pidinet", "hed"] });
    expect(softedge.detector).not.toHaveProperty("default");
    expect(softedge.detector.description).toMatch(/default pidinet/);
    expect(softedge.strength).toMatchObject({ minimum: 0, maximum: 2, default: 0.6 });
    expect(Object.keys(softedge).sort()).toEqual(["detector", "edge_map", "image", "strength"]);
    expect(input.softedge.description).toMatch(/exactly one of image .* or edge_map/);
  });

  it("states the rules between the fields in JSON Schema too, so generated requests keep them", async () => {
    const doc = await documentOf();
    const input = jobInputOf(doc, "application/json");
    // A mask, or mask_from alpha and no mask.
    expect(input.inpaint.anyOf).toEqual([
      { properties: { mask_from: { const: "mask" } }, required: ["mask"] },
      { properties: { mask_from: { const: "alpha" } }, required: ["mask_from"], not: { required: ["mask"] } },
    ]);
    // A photo (with or without a detector) or an edge map (without one), never both.
    expect(input.softedge.anyOf).toEqual([
      { required: ["image"], not: { required: ["edge_map"] } },
      { required: ["edge_map"], not: { anyOf: [{ required: ["image"] }, { required: ["detector"] }] } },
    ]);
    const body = component(doc, doc.paths["/v1/jobs"].post.requestBody.content["application/json"].schema);
    expect(body.properties.input.allOf).toEqual([
      {
        if: { properties: { return_intermediates: { contains: { const: "edge_map" } } }, required: ["return_intermediates"] },
        then: { required: ["softedge"] },
      },
      {
        if: { properties: { return_intermediates: { contains: { const: "inpaint_mask" } } }, required: ["return_intermediates"] },
        then: { required: ["inpaint"] },
      },
      {
        if: { properties: { keypoints: { properties: { type: { const: "inpaint_image" } } } }, required: ["keypoints"] },
        then: { required: ["inpaint"] },
      },
    ]);
    // Keypoints have no JSON Schema default either: an inpaint job's default is its image's face.
    expect(input.keypoints).not.toHaveProperty("default");
    expect(input.keypoints.description).toMatch(/inpaint_image.*for a job with inpaint, else .*reference/);
  });

  it("takes upload ids and URLs for the new images in a JSON body and in the documented form, as for pose images", async () => {
    const doc = await documentOf();
    for (const type of ["application/json", "multipart/form-data"] as const) {
      const input = jobInputOf(doc, type);
      for (const ref of [
        input.inpaint.properties.image,
        input.inpaint.properties.mask,
        input.softedge.properties.image,
        input.softedge.properties.edge_map,
      ]) {
        const schema = JSON.stringify(component(doc, ref));
        expect(schema, type).toContain("upload_id");
        expect(schema, type).not.toContain('"file"');
      }
    }
  });

  it("lists the new intermediates, each model's capabilities, and the new refusal codes", async () => {
    const doc = await documentOf();
    const input = jobInputOf(doc, "application/json");
    const kinds = component(doc, input.return_intermediates.items).enum as string[];
    expect(kinds).toEqual(expect.arrayContaining(["edge_map", "inpaint_mask"]));
    expect(input.return_intermediates.maxItems).toBe(kinds.length);

    const model = doc.components.schemas.Model;
    expect(model.required).toContain("capabilities");
    const capabilities = component(doc, model.properties.capabilities).properties;
    expect(component(doc, capabilities.controlnets.items).enum).toEqual(["identitynet", "inpaint", "softedge"]);
    expect(component(doc, capabilities.edge_detectors.items).enum).toEqual(["pidinet", "hed"]);
    const served = ((await (await api("/v1/models", null)).json()) as { data: Model[] }).data;
    expect(served.find((m) => m.id === "ecomid-tiny")?.capabilities).toEqual({
      controlnets: ["identitynet", "inpaint", "softedge"],
      edge_detectors: ["pidinet", "hed"],
    });

    const refusal = doc.paths["/v1/jobs"].post.responses["422"].description as string;
    for (const code of ["capability_not_supported", "mask_size_mismatch", "mask_missing_alpha"]) expect(refusal).toContain(code);
    const problem = doc.components.schemas.Problem;
    expect(problem.properties).toHaveProperty("capabilities");
    expect(doc.components.schemas.ErrorCode.enum).toEqual(
      expect.arrayContaining(["capability_not_supported", "mask_size_mismatch", "mask_missing_alpha", "mask_empty", "mask_full"]),
    );
  });

  it("states the output size's default in words, not as a JSON Schema default, and shows the size used on the job", async () => {
    const doc = await documentOf();
    const input = jobInputOf(doc, "application/json");
    expect(input.width).not.toHaveProperty("default");
    expect(input.width.description).toMatch(/the inpaint image's, rounded to the nearest multiple of the model's side_multiple/);
    const resolved = component(doc, doc.components.schemas.Job.properties.input);
    expect(resolved.required).toEqual(expect.arrayContaining(["width", "height"]));
  });

  it("offers a single-model deployment only the inputs and detectors its bundle has", () => {
    const config = getConfig(testEnv);
    const tiny = config.models.find((m) => m.id === "ecomid-tiny");
    if (!tiny) throw new Error("the test deployment serves ecomid-tiny");
    const softedgeOnly: Model = { ...tiny, capabilities: { controlnets: ["identitynet", "softedge"], edge_detectors: ["hed"] } };
    const components = deploymentComponents({ ...config, models: [softedgeOnly] });
    const input = (components.DeploymentJobRequest as Json).properties.input;
    expect(input.properties).not.toHaveProperty("inpaint");
    expect(input.additionalProperties).toBe(false);
    expect(input.properties.softedge.properties.detector.enum).toEqual(["hed"]);
  });
});
