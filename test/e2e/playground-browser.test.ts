import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, openPlayground } from "./support/browser.js";

/**
 * The playground in a real browser (Debian's Chromium driven by playwright-core)
 * against the real stack: what a person does, click by click.
 */
const IMAGES = resolve(import.meta.dirname, "../fixtures/images");
const ARTEFACTS = resolve(import.meta.dirname, "../../test-results");

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
  mkdirSync(ARTEFACTS, { recursive: true });
});
afterAll(async () => browser?.close());

describe("playground", () => {
  it("generates a portrait from astronaut.png: progress, a result image, its similarity, a download", async () => {
    const page = await openPlayground(browser);
    await page.setInputFiles("#face", resolve(IMAGES, "astronaut.png"));
    await page.fill("#seed", "11");
    // Keyboard only: focus the button and press Enter.
    await page.focus("#submit");
    await page.keyboard.press("Enter");
    const result = page.locator("#results figure img").first();
    await result.waitFor({ timeout: 90_000 });
    await expect.poll(() => result.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(64);
    await expect.poll(() => page.textContent("#status")).toMatch(/Done in/);
    expect(await page.textContent("#results")).toMatch(/identity similarity|no face found/);
    // The Content Credentials badge: the outputs are labelled AI-generated and signed, here with the stack's development certificate.
    expect(await page.textContent("#content-credentials")).toMatch(
      /^Content Credentials: AI-generated · C2PA manifest \(c2pa\.created\) signed by .+ with a development certificate, not a trusted one\.$/,
    );
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#results a[download]")]);
    expect(download.suggestedFilename()).toMatch(/^job_[0-9a-z]+-0\.webp$/);
    // The detected face is drawn over the reference.
    const drawn = await page.evaluate(() => (document.getElementById("reference-canvas") as HTMLCanvasElement).width);
    expect(drawn).toBeGreaterThan(0);
    await page.screenshot({ path: resolve(ARTEFACTS, "playground-result.png"), fullPage: true });
    await page.close();
  });

  it("says in plain words that coffee.png has no face", async () => {
    const page = await openPlayground(browser);
    await page.setInputFiles("#face", resolve(IMAGES, "coffee.png"));
    await page.click("#submit");
    const error = page.locator("#error");
    await error.waitFor({ state: "visible", timeout: 60_000 });
    expect(await error.textContent()).toMatch(/No face was found in the photo/);
    await page.screenshot({ path: resolve(ARTEFACTS, "playground-no-face.png"), fullPage: true });
    await page.close();
  });
});
