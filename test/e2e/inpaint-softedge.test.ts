import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { api, getJob, image, stack, submitMultipart, tinyJob, waitForStatus, type Json } from "./support/api.js";

// Inpaint and softedge jobs through the whole stack (edge in workerd, the GPU function on the tiny bundle). The
// tiny bundle's weights are random, so the generated pixels are noise; what is checked is what the API promises
// whatever the weights: the product's pixels kept exactly, the edge map returned, the refusals, the cache.
const SIDE = 64;
let product: Uint8Array; // coffee.png at 64x64, standing for a product photo
let productPixels: Uint8Array;

beforeAll(async () => {
  product = new Uint8Array(await sharp(image("coffee.png")).resize(SIDE, SIDE, { fit: "fill" }).png().toBuffer());
  productPixels = new Uint8Array(await sharp(product).removeAlpha().raw().toBuffer());
});

/** White (generate) everywhere but a centred square of side 2*half, where the product is kept. */
async function squareMask(half: number, side = SIDE): Promise<{ png: Uint8Array; kept: (x: number, y: number) => boolean }> {
  const kept = (x: number, y: number) => Math.abs(x - side / 2 + 0.5) < half && Math.abs(y - side / 2 + 0.5) < half;
  const gray = new Uint8Array(side * side);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) gray[y * side + x] = kept(x, y) ? 0 : 255;
  return {
    png: new Uint8Array(
      await sharp(gray, { raw: { width: side, height: side, channels: 1 } })
        .png()
        .toBuffer(),
    ),
    kept,
  };
}

const parts = (files: Record<string, Uint8Array>) =>
  Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, { bytes, type: "image/png" }]));

async function submit(input: Json, files: Record<string, Uint8Array>): Promise<Response> {
  return submitMultipart(tinyJob({ prompt: "a model wearing the product", seed: 5, steps: 2, output_format: "png", ...input }), {
    face: { bytes: image("astronaut.png"), type: "image/png" },
    ...parts(files),
  });
}

async function created(response: Response): Promise<Json> {
  const body = (await response.json()) as Json;
  if (response.status !== 201) throw new Error(`POST /v1/jobs gave ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

async function download(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  expect(r.status).toBe(200);
  return new Uint8Array(await r.arrayBuffer());
}

async function outputPixels(jobId: string): Promise<{ pixels: Uint8Array; width: number; height: number }> {
  const redirect = await api(`/v1/jobs/${jobId}/outputs/0`);
  expect(redirect.status).toBe(302);
  const bytes = await download(redirect.headers.get("location") ?? "");
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { pixels: new Uint8Array(data), width: info.width, height: info.height };
}

async function problem(response: Response): Promise<Json> {
  expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  return (await response.json()) as Json;
}

describe("an inpaint job on the local stack", () => {
  let first: Json | undefined;
  const inpaintInput = { inpaint: { image: { file: "product" }, mask: { file: "mask" } }, return_intermediates: ["inpaint_mask"] };

  it("keeps every unmasked pixel of the product photo exactly, at the photo's size, and shows the mask", async () => {
    const mask = await squareMask(16);
    const job = await waitForStatus((await created(await submit(inpaintInput, { product, mask: mask.png }))).id, 120_000);
    expect(job.status, JSON.stringify(job.error)).toBe("succeeded");
    first = job;
    expect(job.input).toMatchObject({ width: SIDE, height: SIDE }); // the size the job used: the photo's
    const out = await outputPixels(job.id as string);
    expect([out.width, out.height]).toEqual([SIDE, SIDE]);
    let kept = 0;
    let generated = 0;
    for (let y = 0; y < SIDE; y++)
      for (let x = 0; x < SIDE; x++) {
        const i = 3 * (y * SIDE + x);
        const same =
          out.pixels[i] === productPixels[i] && out.pixels[i + 1] === productPixels[i + 1] && out.pixels[i + 2] === productPixels[i + 2];
        if (mask.kept(x, y)) {
          if (!same) throw new Error(`the kept pixel (${x}, ${y}) changed`);
          kept++;
        } else if (!same) generated++;
      }
    expect(kept).toBe(32 * 32);
    expect(generated).toBeGreaterThan(0);
    const shown = (job.intermediates as Json[]).find((i) => i.kind === "inpaint_mask");
    expect(shown, "the inpaint_mask intermediate").toBeDefined();
    const maskShown = await sharp(await download(shown?.url as string))
      .removeAlpha()
      .raw()
      .toBuffer();
    expect(maskShown[3 * ((SIDE / 2) * SIDE + SIDE / 2)]).toBe(0); // the kept centre
    expect(maskShown[0]).toBe(255); // a generated corner
  });

  it("is answered from the cache when sent again, and not when the mask differs", async () => {
    expect(first, "needs the first inpaint job").toBeDefined();
    const mask = await squareMask(16);
    const again = await created(await submit(inpaintInput, { product, mask: mask.png }));
    expect(again.cached).toBe(true);
    const other = await squareMask(12);
    const different = await created(await submit(inpaintInput, { product, mask: other.png }));
    expect(different.cached).toBe(false);
    expect((await waitForStatus(different.id as string, 120_000)).status).toBe("succeeded");
  });

  it("refuses a mask of another size at once with mask_size_mismatch", async () => {
    const small = await squareMask(8, 32);
    const r = await submit({ inpaint: { image: { file: "product" }, mask: { file: "mask" } } }, { product, mask: small.png });
    expect(r.status).toBe(422);
    expect((await problem(r)).code).toBe("mask_size_mismatch");
  });

  it("refuses mask_from alpha on a photo without alpha with mask_missing_alpha", async () => {
    const opaque = new Uint8Array(await sharp(product).removeAlpha().png().toBuffer());
    const r = await submit({ inpaint: { image: { file: "product" }, mask_from: "alpha" } }, { product: opaque });
    expect(r.status).toBe(422);
    expect((await problem(r)).code).toBe("mask_missing_alpha");
  });

  it("fails a job whose mask keeps everything with mask_empty, not retried", async () => {
    const nothing = await squareMask(SIDE); // the kept square covers the image: nothing to generate
    const job = await waitForStatus(
      (await created(await submit({ inpaint: { image: { file: "product" }, mask: { file: "mask" } } }, { product, mask: nothing.png }))).id,
      120_000,
    );
    expect(job.status).toBe("failed");
    expect(job.error).toMatchObject({ code: "mask_empty", retryable: false });
    expect(job.attempt).toBe(1);
  });
});

describe("a softedge job on the local stack", () => {
  it("follows a given edge map and returns it as the edge_map intermediate when asked", async () => {
    const edges = new Uint8Array(await sharp(product).greyscale().png().toBuffer());
    const job = await waitForStatus(
      (await created(await submit({ softedge: { edge_map: { file: "edges" } }, return_intermediates: ["edge_map"] }, { edges }))).id,
      120_000,
    );
    expect(job.status, JSON.stringify(job.error)).toBe("succeeded");
    const shown = (job.intermediates as Json[]).find((i) => i.kind === "edge_map");
    expect(shown, "the edge_map intermediate").toBeDefined();
    const returned = await sharp(await download(shown?.url as string))
      .greyscale()
      .raw()
      .toBuffer();
    const given = await sharp(edges).greyscale().raw().toBuffer();
    expect(returned.equals(given)).toBe(true);
    expect((await getJob(job.id as string)).output).toHaveLength(1);
  });
});

describe("the CLI, as a new user would run it", () => {
  it("generates from a face, a product photo and a mask, keeping the product's pixels", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ecomid-cli-inpaint-"));
    const mask = await squareMask(20);
    writeFileSync(join(dir, "product.png"), product);
    writeFileSync(join(dir, "mask.png"), mask.png);
    const cli = resolve(import.meta.dirname, "../../cli/bin/ecomid.mjs");
    const args = [cli, "generate", "-i", resolve(import.meta.dirname, "../fixtures/images/astronaut.png"), "-p", "a model with the mug"];
    args.push("--inpaint-image", join(dir, "product.png"), "--mask", join(dir, "mask.png"), "--format", "png", "--steps", "2");
    args.push("--seed", "11", "--out", join(dir, "out"));
    await promisify(execFile)(process.execPath, args, {
      env: { ...process.env, ECOMID_BASE_URL: stack().edgeUrl, ECOMID_API_KEY: stack().apiKey },
      timeout: 120_000,
    });
    const saved = readdirSync(join(dir, "out")).find((f) => /-0\.png$/.test(f));
    expect(saved, "the CLI saved output 0 as PNG").toBeDefined();
    const out = await sharp(readFileSync(join(dir, "out", saved ?? "")))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([out.info.width, out.info.height]).toEqual([SIDE, SIDE]);
    for (let y = 0; y < SIDE; y++)
      for (let x = 0; x < SIDE; x++) {
        const i = 3 * (y * SIDE + x);
        if (
          mask.kept(x, y) &&
          !(out.data[i] === productPixels[i] && out.data[i + 1] === productPixels[i + 1] && out.data[i + 2] === productPixels[i + 2])
        )
          throw new Error(`the kept pixel (${x}, ${y}) changed`);
      }
  });
});
