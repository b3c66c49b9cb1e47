import { chromium, type Browser, type Page } from "playwright-core";
import { stack } from "./api.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Debian's Chromium, headless, as playwright-core drives it against the local stack. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // No sandbox as root; no background traffic, which this machine's closed network refuses.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** The playground with the stack's key pasted and the tiny model chosen (its capabilities then decide the controls). */
export async function openPlayground(browser: Browser): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${stack().edgeUrl}/`);
  await page.fill("#api-key", stack().apiKey);
  await page.waitForSelector('#model option[value="ecomid-tiny"]', { state: "attached" });
  await page.selectOption("#model", "ecomid-tiny");
  return page;
}
