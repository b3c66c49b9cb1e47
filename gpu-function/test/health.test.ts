import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GpuService, SERVICE_TOKEN } from "./support/gpu-service.js";

/** A GPU function whose bundle failed to load says so on /health, and says why only to the dispatch token's holder. */
const emptyBundle = mkdtempSync(join(tmpdir(), "ecomid-no-bundle-"));
let service: GpuService;

beforeAll(async () => {
  service = new GpuService({ BUNDLE_DIR: emptyBundle });
  for (let i = 0; i < 600; i++) {
    const h = await fetch(`${service.url}/health`).then(
      (r) => r.json() as Promise<{ status: string }>,
      () => null,
    );
    if (h?.status === "failed") return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the GPU function never reported its failed bundle");
});

afterAll(() => service?.kill());

describe("GPU function /health with a bundle that failed to load", () => {
  it("tells anyone it failed, but not why; the cause is in the logs", async () => {
    const res = await fetch(`${service.url}/health`);
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ status: "failed", model_ready: false, error: null });
    expect(text).not.toContain(emptyBundle);
    expect(service.logs.some((l) => l.msg === "model bundle failed to load")).toBe(true);
  });

  it("tells why to a caller with the dispatch token", async () => {
    const body = (await (await fetch(`${service.url}/health`, { headers: { authorization: `Bearer ${SERVICE_TOKEN}` } })).json()) as {
      error: string | null;
    };
    expect(body.error).toEqual(expect.any(String));
    expect(body.error!.length).toBeGreaterThan(0);
    const wrong = (await (await fetch(`${service.url}/health`, { headers: { authorization: "Bearer not-the-token-000000" } })).json()) as {
      error: string | null;
    };
    expect(wrong.error).toBeNull();
  });
});
