import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GpuProvenanceReport } from "@ecomid/shared/protocol";
import {
  api,
  completeJob,
  createKey,
  HOOK,
  installPeer,
  multipartJob,
  reportedProvenance,
  runDispatch,
  runWebhookDeliveries,
  tinyJob,
} from "./helpers.js";

/**
 * Issue 15 on the edge: the job input's provenance request, who may ask for unlabelled
 * outputs, and the labels the GPU function reports, stored on the job and sent in webhooks.
 */
let peer: ReturnType<typeof installPeer>;
beforeEach(() => {
  peer = installPeer();
});
afterEach(() => peer.restore());

const freshOwner = () => `o${crypto.randomUUID().slice(0, 8)}`;
type Json = Record<string, any>;
const getJob = async (key: string, id: string) => (await (await api(`/v1/jobs/${id}`, key)).json()) as Json;

async function submit(key: string, input: Record<string, unknown> = {}, overrides: Record<string, unknown> = {}) {
  const res = await multipartJob(key, tinyJob(overrides, input));
  return { status: res.status, body: (await res.json()) as Json };
}

async function dispatchedFor(jobId: string) {
  await runDispatch(jobId);
  const request = peer.dispatched.find((d) => d.job_id === jobId);
  if (!request) throw new Error(`job ${jobId} was not dispatched`);
  return request;
}

/** A signer name no default produces, so a job that shows it shows what the GPU reported. */
const REPORTED: GpuProvenanceReport = {
  embedded: "c2pa+iptc",
  digital_source_type: "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
  c2pa: { signer: "Example Shop Operator CA-signed leaf", alg: "ps256", action: "c2pa.created", development_certificate: false },
  prompt_included: false,
};

describe("the provenance request", () => {
  it("defaults to c2pa+iptc without the prompt, shown on the job and sent to the GPU resolved", async () => {
    const { key } = await createKey(freshOwner());
    const { status, body } = await submit(key);
    expect(status).toBe(201);
    expect(body.input.provenance).toEqual({ embed: "c2pa+iptc", include_prompt: false });
    expect(body.provenance).toBeNull();
    expect((await dispatchedFor(body.id)).spec.provenance).toEqual({ embed: "c2pa+iptc", include_prompt: false });
  });

  it("takes iptc and include_prompt, each with the other's default", async () => {
    const { key } = await createKey(freshOwner());
    const iptc = await submit(key, { provenance: { embed: "iptc" } });
    expect(iptc.status).toBe(201);
    expect((await dispatchedFor(iptc.body.id)).spec.provenance).toEqual({ embed: "iptc", include_prompt: false });
    const withPrompt = await submit(key, { provenance: { include_prompt: true } });
    expect(withPrompt.status).toBe(201);
    expect((await dispatchedFor(withPrompt.body.id)).spec.provenance).toEqual({ embed: "c2pa+iptc", include_prompt: true });
  });

  it("refuses an unknown mode, an unknown field and a string in place of the object, pointing at the field", async () => {
    const { key } = await createKey(freshOwner());
    for (const provenance of [{ embed: "xmp" }, { embed: "iptc", sign: true }, "iptc"]) {
      const { status, body } = await submit(key, { provenance });
      expect(status, JSON.stringify(provenance)).toBe(422);
      expect(body.code).toBe("invalid_request");
      expect(body.errors.map((e: { pointer: string }) => e.pointer).join(" ")).toContain("/input/provenance");
    }
    expect(peer.dispatched).toHaveLength(0);
  });
});

describe("unlabelled outputs (embed none)", () => {
  it("are refused 403 forbidden to a key without the provenance:none scope, naming it, and nothing is queued", async () => {
    const { key } = await createKey(freshOwner(), ["jobs:read", "jobs:write"]);
    const { status, body } = await submit(key, { provenance: { embed: "none" } });
    expect(status).toBe(403);
    expect(body.code).toBe("forbidden");
    expect(body.detail).toContain("provenance:none");
    expect(body.errors).toEqual([expect.objectContaining({ pointer: "/input/provenance/embed" })]);
    expect(((await (await api("/v1/jobs", key)).json()) as { data: unknown[] }).data).toEqual([]);
  });

  it("are run for a key an operator granted provenance:none through the admin keys API", async () => {
    const { key: admin } = await createKey("ops", ["admin"]);
    const created = await api("/v1/admin/keys", admin, {
      method: "POST",
      json: { owner_id: freshOwner(), scopes: ["jobs:read", "jobs:write", "provenance:none"] },
    });
    expect(created.status).toBe(201);
    const granted = (await created.json()) as { key: string; scopes: string[] };
    expect(granted.scopes).toContain("provenance:none");
    const { status, body } = await submit(granted.key, { provenance: { embed: "none" } });
    expect(status).toBe(201);
    const request = await dispatchedFor(body.id);
    expect(request.spec.provenance).toEqual({ embed: "none", include_prompt: false });
    await completeJob(request);
    expect((await getJob(granted.key, body.id)).provenance).toEqual({
      embedded: "none",
      digital_source_type: "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
      c2pa: null,
      prompt_included: false,
    });
  });
});

describe("what was embedded", () => {
  it("is the GPU's report, on the job and in the job.succeeded webhook", async () => {
    const { key } = await createKey(freshOwner());
    const { body } = await submit(key, {}, { webhook: { url: HOOK } });
    const request = await dispatchedFor(body.id);
    expect((await getJob(key, body.id)).provenance).toBeNull();
    expect((await completeJob(request, REPORTED)).status).toBe(200);
    const job = await getJob(key, body.id);
    expect(job).toMatchObject({ status: "succeeded", provenance: REPORTED });
    await runWebhookDeliveries(body.id);
    const payloads = peer.webhooks.map((w) => JSON.parse(w.body) as Json);
    const succeeded = payloads.find((p) => p.type === "job.succeeded");
    expect(succeeded?.data.job.provenance).toEqual(REPORTED);
  });

  it("is null for a GPU function from before provenance, whose report says nothing of it, and the job still succeeds", async () => {
    const { key } = await createKey(freshOwner());
    const { body } = await submit(key);
    const request = await dispatchedFor(body.id);
    expect((await completeJob(request, null)).status).toBe(200);
    expect(await getJob(key, body.id)).toMatchObject({ status: "succeeded", provenance: null });
  });

  it("is refused when it is not what the job asked for, or includes a prompt the job did not offer; the job is not recorded as succeeded", async () => {
    const { key } = await createKey(freshOwner());
    const { body } = await submit(key, { provenance: { embed: "c2pa+iptc" } });
    const request = await dispatchedFor(body.id);
    const wrong: GpuProvenanceReport[] = [
      { ...reportedProvenance(request), embedded: "iptc", c2pa: null },
      { ...reportedProvenance(request), prompt_included: true },
      { ...reportedProvenance(request), c2pa: null },
    ];
    for (const provenance of wrong) {
      const res = await completeJob(request, provenance);
      expect(res.status, JSON.stringify(provenance)).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/provenance|prompt|C2PA/);
    }
    expect((await getJob(key, body.id)).status).not.toBe("succeeded");
    expect((await completeJob(request)).status).toBe(200);
    expect((await getJob(key, body.id)).provenance).toEqual(reportedProvenance(request));
  });

  it("rejects a report whose provenance breaks the protocol's shape", async () => {
    const { key } = await createKey(freshOwner());
    const { body } = await submit(key);
    const request = await dispatchedFor(body.id);
    const madeUp = { ...REPORTED, digital_source_type: "http://example.com/madeUp" } as unknown as GpuProvenanceReport;
    const res = await completeJob(request, madeUp);
    expect(res.status).toBe(400);
  });
});

describe("the result cache and provenance", () => {
  it("serves an identical job only to the same provenance request, with the earlier job's labels", async () => {
    const { key } = await createKey(freshOwner());
    const first = await submit(key);
    await completeJob(await dispatchedFor(first.body.id), REPORTED);
    const same = await submit(key);
    expect(same.body).toMatchObject({ status: "succeeded", cached: true, provenance: REPORTED });
    for (const provenance of [{ embed: "iptc" }, { include_prompt: true }]) {
      const other = await submit(key, { provenance });
      expect(other.body.cached, JSON.stringify(provenance)).toBe(false);
      expect(other.body.provenance).toBeNull();
    }
  });
});

describe("/v1/models", () => {
  it("lists every mode for every model, c2pa+iptc the default", async () => {
    const models = ((await (await api("/v1/models", null)).json()) as { data: Json[] }).data;
    expect(models.length).toBeGreaterThan(0);
    for (const m of models) expect(m.provenance, m.id).toEqual({ default: "c2pa+iptc", embeds: ["c2pa+iptc", "iptc", "none"] });
  });
});

describe("the OpenAPI document", () => {
  it("says what each mode embeds, what a job reports, and who may ask for none", async () => {
    const doc = (await (await api("/v1/openapi.json", null)).json()) as Json;
    const schemas = doc.components.schemas;
    const modes = schemas.ProvenanceEmbed;
    expect(modes.enum).toEqual(["c2pa+iptc", "iptc", "none"]);
    for (const said of [
      "IPTC digital source type",
      "bundle id",
      "job id",
      "c2pa.created",
      "c2pa.edited",
      "signed",
      "include_prompt",
      "provenance:none",
    ])
      expect(modes.description, said).toContain(said);
    expect(schemas.Scope.enum).toContain("provenance:none");
    expect(schemas.Job.required).toContain("provenance");
    expect(Object.keys(schemas.JobProvenance.properties)).toEqual(["embedded", "digital_source_type", "c2pa", "prompt_included"]);
    expect(schemas.Model.required).toContain("provenance");
    expect(doc.paths["/v1/jobs"].post.responses["403"].description).toContain("provenance:none");
  });
});
