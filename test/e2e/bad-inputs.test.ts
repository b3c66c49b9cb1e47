import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { createJob, gpuMetrics, image, submitMultipart, tinyJob, waitForStatus, type Json } from "./support/api.js";

/** A valid PNG signature and IHDR claiming `side` x `side` pixels, with no pixel data: the header is all the edge may read. */
function pngHeaderClaiming(side: number): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, deflate, no filter, no interlace
  const type = Buffer.from("IHDR");
  const chunk = Buffer.alloc(12 + ihdr.length);
  chunk.writeUInt32BE(ihdr.length, 0);
  chunk.set(type, 4);
  chunk.set(ihdr, 8);
  chunk.writeUInt32BE(crc32(Buffer.concat([type, ihdr])), 8 + ihdr.length);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk]);
}

async function problem(response: Response): Promise<Json> {
  expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  const body = (await response.json()) as Json;
  expect(body.status).toBe(response.status);
  expect(body.request_id).toMatch(/^req_/);
  return body;
}

describe("bad inputs get the documented error codes", () => {
  it("a photo without a face: the job fails with face_not_detected", async () => {
    const created = await createJob(tinyJob({ prompt: "a portrait of nobody", seed: 7 }), image("coffee.png"));
    const job = await waitForStatus(created.id, 90_000);
    expect(job.status).toBe("failed");
    expect(job.error).toMatchObject({ code: "face_not_detected", retryable: false });
    expect(job.error.message).toEqual(expect.any(String));
    expect(job.output).toEqual([]);
    expect(job.attempt).toBe(1); // not retried: another GPU would find no face either
  });

  it("a file that is not an image: 415 unsupported_image_format, before any GPU work", async () => {
    const before = await gpuMetrics();
    const r = await submitMultipart(tinyJob({ prompt: "x", seed: 1 }), {
      face: { bytes: Buffer.from("%PDF-1.7 definitely not a picture"), type: "image/png" },
    });
    expect(r.status).toBe(415);
    const body = await problem(r);
    expect(body.code).toBe("unsupported_image_format");
    expect(body.errors?.[0]?.pointer ?? body.detail).toMatch(/reference_images\/0|not a JPEG, PNG or WebP/);
    expect((await gpuMetrics()).gpu_jobs_accepted_total ?? 0).toBe(before.gpu_jobs_accepted_total ?? 0);
  });

  it("a PNG whose header claims 17000x17000: 413 image_too_large, without decoding it", async () => {
    const r = await submitMultipart(tinyJob({ prompt: "x", seed: 1 }), { face: { bytes: pngHeaderClaiming(17000), type: "image/png" } });
    expect(r.status).toBe(413);
    const body = await problem(r);
    expect(body.code).toBe("image_too_large");
    expect(JSON.stringify(body)).toContain("17000x17000");
  });

  it("keypoints outside the output image: 422 with a JSON pointer to the bad point", async () => {
    const points = [
      [24, 26],
      [40, 26],
      [32, 34],
      [26, 44],
      [90, 44],
    ]; // the last one lies beyond the 64-pixel width
    const r = await submitMultipart(tinyJob({ prompt: "x", seed: 1, keypoints: { type: "points", points } }), {
      face: { bytes: image("astronaut.png"), type: "image/png" },
    });
    expect(r.status).toBe(422);
    const body = await problem(r);
    expect(body.code).toBe("invalid_request");
    expect(body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer: "/input/keypoints/points/4" })]));
  });
});
