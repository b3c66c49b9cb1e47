import { describe, expect, it } from "vitest";
import { ERROR_ADVICE } from "@ecomid/shared/api";
import { AppError } from "../../edge/src/errors.js";
import { sniffImage } from "../../edge/src/lib/image-sniff.js";
import { assertOutboundUrl } from "../../edge/src/lib/ssrf.js";
import { api, pngOf, webpOf } from "./helpers.js";

describe("OpenAPI document and docs page", () => {
  it("serves OpenAPI 3.1 generated from the shared schemas", async () => {
    const doc = (await (await api("/v1/openapi.json", null)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/jobs", "/v1/jobs/{id}", "/v1/jobs/{id}/events", "/v1/uploads", "/v1/models"]),
    );
    expect(Object.keys(doc.paths["/v1/jobs"]!)).toEqual(expect.arrayContaining(["get", "post"]));
    expect(doc.components.schemas.ResolvedJobInput!.properties).toHaveProperty("identity_strength");
    expect(doc.components.schemas.Problem!.properties).toHaveProperty("code");
  });

  it("serves a docs page that needs no network", async () => {
    const res = await api("/docs", null);
    const html = await res.text();
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(html).toContain("/v1/jobs/{id}/outputs/{index}");
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
  });
});

describe("playground", () => {
  it("serves a self-contained page at / with labelled, keyboard-usable controls", async () => {
    const res = await api("/", null);
    const html = await res.text();
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(html).not.toMatch(/(src|href)="https?:/);
    const controls = ["api-key", "face", "pose", "prompt", "identity", "structure", "steps", "guidance", "seed", "format"];
    const inpaintAndSoftedge = ["inpaint-image", "inpaint-mask", "brush-size", "inpaint-grow", "inpaint-feather", "inpaint-strength"];
    for (const id of [...controls, ...inpaintAndSoftedge, "softedge-file", "softedge-detector", "softedge-strength"]) {
      expect(html, id).toMatch(new RegExp(`<label (class="[^"]*" )?for="${id}"`));
    }
    expect(html).toContain('role="alert"');
    // The page carries no key of its own.
    expect(html).not.toMatch(/ek_(live|test)_[A-Za-z0-9]{32}/);
  });

  it("explains errors with the shared advice for every code", async () => {
    const html = await (await api("/", null)).text();
    const advice = /const ADVICE = (\{.*?\});\n/.exec(html)?.[1];
    expect(JSON.parse(advice ?? "null")).toEqual(ERROR_ADVICE);
  });
});

describe("image header sniffing", () => {
  it("reads PNG and WebP sizes without decoding", () => {
    expect(sniffImage(pngOf(640, 480))).toEqual({ contentType: "image/png", width: 640, height: 480 });
    expect(sniffImage(webpOf(300, 200))).toEqual({ contentType: "image/webp", width: 300, height: 200 });
  });

  it("reads a JPEG's frame size", () => {
    // SOI, an APP0 segment, then SOF0 with height 120 and width 160.
    const jpeg = new Uint8Array([
      0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x78, 0x00, 0xa0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    expect(sniffImage(jpeg)).toEqual({ contentType: "image/jpeg", width: 160, height: 120 });
  });

  it("refuses other formats and pixel bombs", () => {
    expect(() => sniffImage(new TextEncoder().encode("GIF89a"))).toThrow(/not a JPEG, PNG or WebP/);
    expect(() => sniffImage(pngOf(10000, 10000))).toThrowError(AppError);
    const corrupt = new Uint8Array(20);
    corrupt.set([0xff, 0xd8]);
    expect(() => sniffImage(corrupt)).toThrow(/corrupt JPEG/);
    expect(() => sniffImage(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toThrow(/JPEG without a frame/);
  });
});

describe("outbound URL guard", () => {
  const prod = { allowLoopback: false };
  it.each([
    "http://example.com/x",
    "https://127.0.0.1/x",
    "https://localhost/x",
    "https://10.1.2.3/x",
    "https://172.20.0.1/x",
    "https://192.168.0.10/x",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/x",
    "https://0.0.0.0/x",
    "https://[::1]/x",
    "https://[fd00::1]/x",
    "https://[fe80::1]/x",
    "https://[::ffff:10.0.0.1]/x",
    "https://0x7f.1/x",
    "https://2130706433/x",
    "https://metadata.google.internal/x",
    "https://intranet/x",
    "https://images.example/x",
    "https://nas.home.arpa/x",
    "https://a.invalid/x",
    "ftp://example.com/x",
    "https://u:p@example.com/x",
  ])("refuses %s in production", (url) => {
    expect(() => assertOutboundUrl(url, prod)).toThrowError(AppError);
  });

  it("allows public https hosts, and loopback only in local development", () => {
    expect(assertOutboundUrl("https://example.com/a.png", prod).hostname).toBe("example.com");
    expect(assertOutboundUrl("https://8.8.8.8/a.png", prod).hostname).toBe("8.8.8.8");
    expect(assertOutboundUrl("http://127.0.0.1:9000/hook", { allowLoopback: true }).port).toBe("9000");
    expect(() => assertOutboundUrl("http://10.0.0.1/hook", { allowLoopback: true })).toThrowError(AppError);
  });
});
