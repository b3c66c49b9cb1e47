import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../edge/src/app.js";
import { BASE, createKey } from "./helpers.js";

/**
 * The served document and the app's own routes are the same set of operations, both
 * ways, for every method: a route mounted without a definition, or a definition whose
 * route went, fails here. HEAD and OPTIONS are the app's, not operations: HEAD is served
 * by each GET route (Hono drops the body), OPTIONS by the app itself (a CORS preflight,
 * else 204 with Allow), so the document declares neither.
 */

/** Mounted on purpose outside the public document: the pages, the document itself, bench:edge's baseline, signed file URLs, GPU callbacks. */
const UNDOCUMENTED = [
  "GET /",
  "GET /docs",
  "GET /hello",
  "GET /v1/openapi.json",
  "GET /files/*",
  "HEAD /files/*",
  "PUT /files/*",
  "POST /internal/gpu/jobs/{id}/callbacks",
];

type Document = { paths: Record<string, Record<string, unknown>> };
const documentOf = async () => (await (await SELF.fetch(`${BASE}/v1/openapi.json`)).json()) as Document;
const documented = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));

/** The app's routes as `METHOD /path/{param}`; middleware registered with `use` is ALL, not a route. */
function mounted(): string[] {
  const routes = createApp().routes.filter((r) => r.method !== "ALL");
  return [...new Set(routes.map((r) => `${r.method} ${r.path.replace(/:([^/]+)/g, "{$1}")}`))];
}

const sorted = (list: string[]) => [...list].sort();

describe("the document and the app's routes", () => {
  it("state the same operations, both ways, for every method", async () => {
    const inDocument = documented(await documentOf());
    const routes = mounted();
    expect(sorted(routes.filter((op) => !inDocument.includes(op) && !UNDOCUMENTED.includes(op))), "mounted, not in the document").toEqual(
      [],
    );
    expect(sorted(inDocument.filter((op) => !routes.includes(op))), "in the document, not mounted").toEqual([]);
    // The exceptions are routes that exist, and are kept out of the document.
    expect(sorted(UNDOCUMENTED.filter((op) => !routes.includes(op))), "listed as undocumented, not mounted").toEqual([]);
    expect(sorted(UNDOCUMENTED.filter((op) => inDocument.includes(op))), "listed as undocumented, yet in the document").toEqual([]);
  });

  it("declare no HEAD or OPTIONS operation: the app answers those itself", async () => {
    const methods = new Set(documented(await documentOf()).map((op) => op.split(" ")[0]));
    expect(methods.has("HEAD")).toBe(false);
    expect(methods.has("OPTIONS")).toBe(false);
  });

  it("reach a route for every documented operation, HEAD wherever GET is, and OPTIONS everywhere", async () => {
    const { key } = await createKey(`o${crypto.randomUUID().slice(0, 8)}`);
    const send = (method: string, path: string) => SELF.fetch(`${BASE}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
    for (const op of documented(await documentOf())) {
      const [method, template] = op.split(" ") as [string, string];
      const path = template.replace(/\{[^}]+\}/g, "x1");
      const res = await send(method, path);
      // A route answered (a refusal of its own is fine), not the router: neither 405 nor its 404 for a path it does not know.
      expect(res.status, op).not.toBe(405);
      if (res.status === 404) expect(((await res.json()) as { detail: string }).detail, op).not.toMatch(/^no route /);
      else await res.arrayBuffer();
      if (method === "GET") {
        const head = await send("HEAD", path);
        expect(head.status, `HEAD ${template}`).toBe(res.status);
        expect(await head.text(), `HEAD ${template}`).toBe("");
      }
      const options = await SELF.fetch(`${BASE}${path}`, { method: "OPTIONS" });
      expect(options.status, `OPTIONS ${template}`).toBe(204);
      expect(options.headers.get("allow"), `OPTIONS ${template}`).toContain(method);
    }
  });
});
