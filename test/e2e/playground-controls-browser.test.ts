import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { image, stack, type Json } from "./support/api.js";
import { launchChromium, openPlayground } from "./support/browser.js";

/**
 * The playground's inpaint and softedge controls in a real browser against the real stack
 * (the tiny bundle, 64x64): a mask painted with the mouse or uploaded by keyboard, the
 * result beside the photo with the kept region outlined, an edge map previewed and returned.
 * The tiny bundle generates noise, so what is checked is what the page and API promise
 * whatever the weights: the unpainted pixels come back exactly.
 */
const ARTEFACTS = resolve(import.meta.dirname, "../../test-results");
const SIDE = 64;
const RESULT_TIMEOUT_MS = 90_000;

let browser: Browser;
let product: Buffer; // coffee.png at 64x64 without alpha, standing for a product photo
let productRgb: Raster;

interface Raster {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}
const rasterOf = async (bytes: Uint8Array): Promise<Raster> => {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
};
const at = (r: Raster, x: number, y: number) =>
  Array.from(r.data.subarray((y * r.width + x) * r.channels, (y * r.width + x + 1) * r.channels));
/** Luma as PIL's convert("L") computes it, the API's rule for masks and edge maps. */
const luma = (r: number, g: number, b: number) => (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;

beforeAll(async () => {
  browser = await launchChromium();
  product = await sharp(image("coffee.png")).resize(SIDE, SIDE, { fit: "fill" }).removeAlpha().png().toBuffer();
  productRgb = await rasterOf(product);
  mkdirSync(ARTEFACTS, { recursive: true });
});
afterAll(async () => browser?.close());

const png = (name: string, buffer: Buffer) => ({ name, mimeType: "image/png", buffer });

async function setRange(page: Page, id: string, value: number) {
  await page.$eval(
    `#${id}`,
    (input: HTMLInputElement, v) => {
      input.value = String(v);
      input.dispatchEvent(new Event("input", { bubbles: true }));
    },
    value,
  );
}

/** One mouse stroke from `start` through the other photo pixels (their centres), on the mask canvas as shown. */
async function stroke(page: Page, start: [number, number], ...points: [number, number][]) {
  const canvas = page.locator("#mask-canvas");
  // Playwright's own hover scrolls the canvas into view and moves the mouse there; coordinates are then the viewport's.
  await canvas.hover({ position: { x: 1, y: 1 } });
  const box = await canvas.boundingBox();
  if (!box) throw new Error("the mask canvas is not shown");
  const client = ([x, y]: [number, number]) => [box.x + ((x + 0.5) * box.width) / SIDE, box.y + ((y + 0.5) * box.height) / SIDE] as const;
  await page.mouse.move(...client(start));
  await page.mouse.down();
  for (const p of points) await page.mouse.move(...client(p), { steps: 10 });
  await page.mouse.up();
}

async function startProductJob(page: Page, photo = product) {
  await page.setInputFiles("#face", resolve(import.meta.dirname, "../fixtures/images/astronaut.png"));
  await page.fill("#seed", "3");
  await page.selectOption("#format", "png"); // lossless, so the kept pixels can be compared exactly
  await page.setInputFiles("#inpaint-image", png("product.png", photo));
  await page.locator("#mask-canvas").waitFor();
}

/** The result's output and inpaint_mask, fetched as any client would from the URLs the page shows. */
async function resultImages(page: Page): Promise<{ output: Raster; mask: Raster }> {
  const output = page.locator('#results img[alt="Generated portrait 1"]');
  await output.waitFor({ timeout: RESULT_TIMEOUT_MS });
  await expect.poll(() => page.textContent("#status")).toMatch(/Done in/);
  const src = (alt: string) => page.$eval(`#results img[alt="${alt}"]`, (img: HTMLImageElement) => img.src);
  const fetched = async (url: string) => new Uint8Array(await (await fetch(url)).arrayBuffer());
  return {
    output: await rasterOf(await fetched(await src("Generated portrait 1"))),
    mask: await rasterOf(await fetched(await src("Intermediate: inpaint mask"))),
  };
}

/** Every pixel the returned mask keeps (black) is the photo's exactly; returns how many there are. */
function expectKeptPixelsExact(output: Raster, mask: Raster): number {
  expect([output.width, output.height]).toEqual([SIDE, SIDE]);
  let kept = 0;
  for (let y = 0; y < SIDE; y++)
    for (let x = 0; x < SIDE; x++) {
      if (at(mask, x, y)[0] !== 0) continue;
      kept++;
      const got = at(output, x, y).slice(0, 3);
      if (got.join() !== at(productRgb, x, y).join())
        throw new Error(`kept pixel (${x}, ${y}) is ${got} not the photo's ${at(productRgb, x, y)}`);
    }
  return kept;
}

/** Pixel sides between a kept and a generated pixel: what the page's outline must trace, one unit segment each. */
function boundarySides(mask: Raster): number {
  const kept = (x: number, y: number) => at(mask, x, y)[0] === 0;
  let sides = 0;
  for (let y = 0; y < SIDE; y++)
    for (let x = 0; x < SIDE; x++) {
      if (x + 1 < SIDE && kept(x, y) !== kept(x + 1, y)) sides++;
      if (y + 1 < SIDE && kept(x, y) !== kept(x, y + 1)) sides++;
    }
  return sides;
}

async function expectOutline(page: Page, mask: Raster) {
  const outline = page.locator('#results svg[aria-label="Outline of the kept (unpainted) region"] path').first();
  await outline.waitFor({ state: "attached" });
  const d = (await outline.getAttribute("d")) ?? "";
  expect(d.match(/M/g)?.length ?? 0).toBe(boundarySides(mask));
  // The photo sent is shown beside the result.
  await expect
    .poll(() => page.locator('#results img[alt="The product photo sent"]').evaluate((img: HTMLImageElement) => img.naturalWidth))
    .toBe(SIDE);
}

describe("playground inpaint", () => {
  it("paints a mask with the mouse, erases part of it, and keeps every unpainted pixel of the photo exactly", async () => {
    const page = await openPlayground(browser);
    await startProductJob(page);
    await setRange(page, "brush-size", 8);
    await stroke(page, [4, 12], [60, 12]); // a band across the top, rows ~8..16
    await stroke(page, [12, 4], [12, 60]); // a band down the left, columns ~8..16
    await page.check("#tool-eraser");
    await setRange(page, "brush-size", 12);
    await stroke(page, [4, 40], [20, 40]); // cuts the left band at rows ~34..46
    expect(await page.textContent("#mask-status")).toMatch(/pixels \(.*%\) will be generated/);
    await page.click("#submit");
    const { output, mask } = await resultImages(page);
    // The mask the job used is the one painted: both bands, less the erased cut, nothing elsewhere.
    for (let x = 8; x <= 56; x++) expect(at(mask, x, 12)[0], `top band at x=${x}`).toBe(255);
    for (const y of [8, 20, 28, 52, 56]) expect(at(mask, 12, y)[0], `left band at y=${y}`).toBe(255);
    for (const y of [37, 40, 43]) expect(at(mask, 12, y)[0], `erased at y=${y}`).toBe(0);
    for (const [x, y] of [
      [40, 40],
      [30, 24],
      [2, 63],
      [63, 2],
    ] as const)
      expect(at(mask, x, y)[0], `unpainted (${x}, ${y})`).toBe(0);
    const kept = expectKeptPixelsExact(output, mask);
    expect(kept).toBeGreaterThan(SIDE * SIDE * 0.5);
    await expectOutline(page, mask);
    await page.screenshot({ path: resolve(ARTEFACTS, "playground-inpaint-painted.png"), fullPage: true });
    await page.close();
  });

  it("takes an uploaded mask by keyboard alone and outlines the kept square on the result", async () => {
    const page = await openPlayground(browser);
    await startProductJob(page);
    // Generate everywhere but a centred 32x32 square, where the product is kept.
    const gray = Buffer.alloc(SIDE * SIDE);
    for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) gray[y * SIDE + x] = x >= 16 && x < 48 && y >= 16 && y < 48 ? 0 : 255;
    const maskPng = await sharp(gray, { raw: { width: SIDE, height: SIDE, channels: 1 } })
      .png()
      .toBuffer();
    // From the clear button, Tab reaches the mask upload; Space opens its file chooser.
    await page.focus("#mask-clear");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("inpaint-mask");
    const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.keyboard.press("Space")]);
    await chooser.setFiles(png("mask.png", maskPng));
    await expect.poll(() => page.textContent("#mask-status")).toMatch(new RegExp(`^${SIDE * SIDE - 32 * 32} of ${SIDE * SIDE} pixels`));
    await page.focus("#submit");
    await page.keyboard.press("Enter");
    const { output, mask } = await resultImages(page);
    expect(expectKeptPixelsExact(output, mask)).toBe(32 * 32);
    await expectOutline(page, mask);
    expect(boundarySides(mask)).toBe(4 * 32);
    await page.screenshot({ path: resolve(ARTEFACTS, "playground-inpaint-uploaded.png"), fullPage: true });
    await page.close();
  });
  it("takes the mask from the photo's transparency, by keyboard, and keeps the opaque product", async () => {
    const page = await openPlayground(browser);
    // The product cut out: opaque in a centred 32x32 square, transparent around it (to be generated).
    const alpha = Buffer.alloc(SIDE * SIDE);
    for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) alpha[y * SIDE + x] = x >= 16 && x < 48 && y >= 16 && y < 48 ? 255 : 0;
    const cutOut = await sharp(productRgb.data, { raw: { width: SIDE, height: SIDE, channels: 3 } })
      .joinChannel(alpha, { raw: { width: SIDE, height: SIDE, channels: 1 } })
      .png()
      .toBuffer();
    await startProductJob(page, cutOut);
    await page.focus("#mask-from-alpha");
    await page.keyboard.press("Space");
    expect(await page.isChecked("#mask-from-alpha")).toBe(true);
    expect(await page.isDisabled("#tool-brush")).toBe(true); // nothing to paint while the alpha decides
    await expect.poll(() => page.textContent("#mask-status")).toMatch(new RegExp(`^${SIDE * SIDE - 32 * 32} of ${SIDE * SIDE} pixels`));
    await page.focus("#submit");
    await page.keyboard.press("Enter");
    const { output, mask } = await resultImages(page);
    expect(expectKeptPixelsExact(output, mask)).toBe(32 * 32);
    for (const [x, y] of [
      [16, 16],
      [47, 47],
    ] as const)
      expect(at(mask, x, y)[0], `opaque (${x}, ${y}) kept`).toBe(0);
    await expectOutline(page, mask);
    await page.close();
  });
});

describe("playground softedge", () => {
  it("previews a given edge map in gray as the API uses it and shows the job's edge_map beside the result", async () => {
    const models = (await (await fetch(`${stack().edgeUrl}/v1/models`)).json()) as { data: Json[] };
    const detectors = models.data.find((m) => m.id === "ecomid-tiny")?.capabilities.edge_detectors as string[];
    const page = await openPlayground(browser);
    await page.setInputFiles("#face", resolve(import.meta.dirname, "../fixtures/images/astronaut.png"));
    await page.fill("#seed", "4");
    // A photo offered only where the model has a detector; an edge map is never made up in the browser.
    expect(await page.isDisabled("#softedge-from-photo")).toBe(detectors.length === 0);
    // A colour picture given as the edge map: the preview must be its PIL luma, replicated to gray.
    const colourful = await sharp(image("chelsea.png")).resize(SIDE, SIDE, { fit: "fill" }).removeAlpha().png().toBuffer();
    const given = await rasterOf(colourful);
    await page.setInputFiles("#softedge-file", png("edges.png", colourful));
    const preview = page.locator("#edge-preview");
    await preview.waitFor();
    const shown = await preview.evaluate((c: HTMLCanvasElement) =>
      Array.from(c.getContext("2d")?.getImageData(0, 0, c.width, c.height).data ?? []),
    );
    expect(shown).toHaveLength(SIDE * SIDE * 4);
    let colouredPixels = 0;
    for (let i = 0; i < SIDE * SIDE; i++) {
      const [r = 0, g = 0, b = 0] = given.data.subarray(3 * i, 3 * i + 3);
      const l = luma(r, g, b);
      if (r !== g || g !== b) colouredPixels++;
      expect(shown.slice(4 * i, 4 * i + 4), `preview pixel ${i}`).toEqual([l, l, l, 255]);
    }
    expect(colouredPixels, "the fixture must be in colour for the gray conversion to be tested").toBeGreaterThan(0);
    expect(await page.textContent("#softedge-note")).toMatch(/as it will be used/);
    await page.click("#submit");
    const edgeMap = page.locator('#results img[alt="Intermediate: edge map"]');
    await edgeMap.waitFor({ timeout: RESULT_TIMEOUT_MS });
    await expect.poll(() => page.textContent("#status")).toMatch(/Done in/);
    const returned = await rasterOf(
      new Uint8Array(await (await fetch(await edgeMap.evaluate((img: HTMLImageElement) => img.src))).arrayBuffer()),
    );
    for (let i = 0; i < SIDE * SIDE; i++) expect(returned.data[returned.channels * i], `edge_map pixel ${i}`).toBe(shown[4 * i]);
    await page.screenshot({ path: resolve(ARTEFACTS, "playground-softedge.png"), fullPage: true });
    await page.close();
  });

  it("for a photo, says its edge map is computed on the GPU, draws none itself, and asks the job for the detector and the edge_map", async () => {
    const page = await openPlayground(browser);
    await page.setInputFiles("#face", resolve(import.meta.dirname, "../fixtures/images/astronaut.png"));
    await page.fill("#seed", "4");
    await page.check("#softedge-from-photo");
    await page.selectOption("#softedge-detector", "hed");
    await page.setInputFiles("#softedge-file", png("scene.png", product));
    await expect
      .poll(() => page.textContent("#softedge-note"))
      .toMatch(/computed from this photo on the GPU by the hed detector; it is shown beside the result after the job/);
    expect(await page.isHidden("#edge-preview")).toBe(true);
    // The job as the API recorded it, from its answer to the page.
    const answer = page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/v1/jobs"));
    await page.click("#submit");
    const job = (await (await answer).json()) as Json;
    expect(job.input?.softedge, JSON.stringify(job)).toMatchObject({ detector: "hed", strength: 0.6 });
    expect(job.input.softedge.image).toBeDefined();
    expect(job.input.softedge.edge_map).toBeUndefined();
    expect(job.input.return_intermediates).toContain("edge_map");
    // The tiny bundle has both detectors: the GPU's edge map is shown with the result.
    await page.locator('#results img[alt="Intermediate: edge map"], #error:not([hidden])').first().waitFor({ timeout: RESULT_TIMEOUT_MS });
    expect(await page.isVisible("#error"), (await page.textContent("#error")) ?? "").toBe(false);
    expect(await page.locator('#results img[alt="Intermediate: edge map"]').count()).toBe(1);
    await page.screenshot({ path: resolve(ARTEFACTS, "playground-softedge-photo.png"), fullPage: true });
    await page.close();
  });
});
