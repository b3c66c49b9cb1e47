import { SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GpuCallback, GpuJobRequest } from "@ecomid/shared/protocol";
import { api, createKey, gpuCallback, installPeer, multipartJob, pngOf, runDispatch, SAMPLE_FACES, tinyJob, webpOf } from "./helpers.js";

/** What a GPU function reports is checked against the job it was given before anything is recorded. */
let peer: ReturnType<typeof installPeer>;
beforeEach(() => {
  peer = installPeer();
});
afterEach(() => peer.restore());

const freshOwner = () => `o${crypto.randomUUID().slice(0, 8)}`;
const getJob = async (key: string, id: string) => (await (await api(`/v1/jobs/${id}`, key)).json()) as Record<string, any>;

async function dispatched(
  key: string,
  overrides: Record<string, unknown> = {},
  input: Record<string, unknown> = {},
  attempt = 1,
): Promise<GpuJobRequest> {
  const job = (await (await multipartJob(key, tinyJob(overrides, input))).json()) as { id: string };
  await runDispatch(job.id, attempt);
  return peer.dispatched.find((d) => d.job_id === job.id)!;
}

async function uploadOutputs(request: GpuJobRequest) {
  const bytes = webpOf(64, 64);
  for (const o of request.outputs)
    await SELF.fetch(o.put_url, { method: "PUT", headers: { "content-type": o.content_type }, body: bytes as BufferSource });
  return request.outputs.map((o) => ({
    index: o.index,
    content_type: o.content_type,
    bytes: bytes.byteLength,
    sha256: "x",
    width: 64,
    height: 64,
    seed: 1,
    identity_similarity: 0.5,
  }));
}

const success = (
  request: GpuJobRequest,
  outputs: Extract<GpuCallback, { type: "succeeded" }>["outputs"],
  intermediates: Array<{ kind: string; content_type: string }> = [],
): GpuCallback => ({
  type: "succeeded",
  attempt: request.attempt,
  outputs,
  intermediates,
  faces: SAMPLE_FACES,
  chosen_face: 0,
  timings: { run_ms: 10, stages_ms: {} },
});

describe("a GPU function's success report", () => {
  it("is refused with intermediates the job did not ask for, or outputs other than those asked for; the job stays as it was", async () => {
    const { key } = await createKey(freshOwner());
    const request = await dispatched(key, {}, { num_outputs: 2 });
    const outputs = await uploadOutputs(request);
    const unasked = await gpuCallback(request, success(request, outputs, [{ kind: "arcface_crop", content_type: "image/png" }]));
    expect(unasked.status).toBe(400);
    expect(((await unasked.json()) as { detail: string }).detail).toMatch(/did not ask for: arcface_crop/);
    expect((await gpuCallback(request, success(request, outputs.slice(0, 1)))).status).toBe(400);
    expect((await gpuCallback(request, success(request, [outputs[0]!, outputs[0]!]))).status).toBe(400);
    expect((await getJob(key, request.job_id)).status).not.toBe("succeeded");
    expect((await gpuCallback(request, success(request, outputs))).status).toBe(200);
    const job = await getJob(key, request.job_id);
    expect(job.status).toBe("succeeded");
    expect(job.intermediates).toEqual([]);
  });

  it("with a requested intermediate that was never uploaded counts as a failed upload and is retried", async () => {
    const { key } = await createKey(freshOwner());
    const request = await dispatched(key, {}, { return_intermediates: ["keypoint_image"] });
    const outputs = await uploadOutputs(request);
    expect((await gpuCallback(request, success(request, outputs, [{ kind: "keypoint_image", content_type: "image/png" }]))).status).toBe(
      200,
    );
    expect(await getJob(key, request.job_id)).toMatchObject({ status: "queued", attempt: 2, substatus: "retrying" });
  });

  it("missing an output after two hand-backs is retried by the same attempts rule as every other failure", async () => {
    const { key } = await createKey(freshOwner());
    let request = await dispatched(key);
    // Two draining GPU functions hand the job back: attempts 2 and 3, and neither counts.
    for (const next of [2, 3]) {
      await gpuCallback(request, {
        type: "failed",
        attempt: request.attempt,
        error: { code: "worker_shutdown", message: "draining", retryable: true },
      });
      await runDispatch(request.job_id, next);
      request = peer.dispatched.find((d) => d.job_id === request.job_id && d.attempt === next)!;
    }
    // Attempt 3 (the first that counts) reports an output it never uploaded: retried, not failed.
    const never = request.outputs.map((o) => ({
      index: o.index,
      content_type: o.content_type,
      bytes: 30,
      sha256: "x",
      width: 64,
      height: 64,
      seed: 1,
      identity_similarity: null,
    }));
    expect((await gpuCallback(request, success(request, never))).status).toBe(200);
    expect(await getJob(key, request.job_id)).toMatchObject({ status: "queued", attempt: 4 });
  });
});

describe("intermediates asked for twice", () => {
  it("are one intermediate each: the job asks for each kind once and succeeds with it", async () => {
    const { key } = await createKey(freshOwner());
    const request = await dispatched(key, {}, { return_intermediates: ["keypoint_image", "keypoint_image"] });
    expect(request.intermediates.map((i) => i.kind)).toEqual(["keypoint_image"]);
    const outputs = await uploadOutputs(request);
    await SELF.fetch(request.intermediates[0]!.put_url, {
      method: "PUT",
      headers: { "content-type": "image/png" },
      body: pngOf(64, 64) as BufferSource,
    });
    expect((await gpuCallback(request, success(request, outputs, [{ kind: "keypoint_image", content_type: "image/png" }]))).status).toBe(
      200,
    );
    expect(await getJob(key, request.job_id)).toMatchObject({ status: "succeeded", input: { return_intermediates: ["keypoint_image"] } });
  });
});

describe("a progress preview", () => {
  it("is refused unless it is a base64 data: URL of an image", async () => {
    const { key } = await createKey(freshOwner());
    const request = await dispatched(key);
    const progress = (preview: string): GpuCallback => ({
      type: "progress",
      attempt: 1,
      progress: { stage: "denoising", step: 1, total_steps: 4 },
      preview,
    });
    for (const bad of [
      "javascript:alert(1)",
      "data:text/html;base64,PHNjcmlwdD4=",
      "https://elsewhere.example/p.webp",
      "data:image/svg+xml;base64,PHN2Zz4=",
      "data:image/webp;base64,AA AA",
    ]) {
      expect((await gpuCallback(request, progress(bad))).status, bad).toBe(400);
    }
    expect((await gpuCallback(request, progress("data:image/webp;base64,UklGRg=="))).status).toBe(200);
  });
});
