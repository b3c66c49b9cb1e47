import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, createKey } from "./helpers.js";

/**
 * A known path asked with a method it does not take answers 405 with `Allow` (RFC 9110
 * 15.5.6), not 404, and what `Allow` lists is exactly what the OpenAPI document declares
 * for the path (with HEAD wherever GET is, and OPTIONS). TRACE, which a Request cannot
 * carry here, is sent over the wire by test/e2e/http-methods.test.ts.
 */
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

describe("methods a path does not take", () => {
  it("answer 405 with the Allow the document declares, on every documented path", async () => {
    const { key } = await createKey(`o${crypto.randomUUID().slice(0, 8)}`);
    const doc = (await (await SELF.fetch(`${BASE}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    for (const [template, operations] of Object.entries(doc.paths)) {
      const path = template.replace(/\{[^}]+\}/g, "x1");
      const declared = Object.keys(operations).map((m) => m.toUpperCase());
      const allow = [...new Set([...declared, ...(declared.includes("GET") ? ["HEAD"] : []), "OPTIONS"])].sort().join(", ");
      for (const method of METHODS.filter((m) => !declared.includes(m))) {
        const res = await SELF.fetch(`${BASE}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
        expect(res.status, `${method} ${template}`).toBe(405);
        expect(res.headers.get("allow"), `${method} ${template}`).toBe(allow);
        expect(res.headers.get("content-type")).toBe("application/problem+json");
        expect(((await res.json()) as { code: string }).code).toBe("method_not_allowed");
      }
      const options = await SELF.fetch(`${BASE}${path}`, { method: "OPTIONS" });
      expect(options.status, `OPTIONS ${template}`).toBe(204);
      expect(options.headers.get("allow")).toBe(allow);
    }
  });

  it("leave unknown paths at 404", async () => {
    for (const path of ["/v2/jobs", "/v1/jobs/x1/nothing", "/nothing"]) {
      const res = await SELF.fetch(`${BASE}${path}`, { method: "PATCH" });
      expect(res.status, path).toBe(404);
      expect(res.headers.get("allow")).toBeNull();
    }
  });
});
