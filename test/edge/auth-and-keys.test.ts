import { describe, expect, it } from "vitest";
import { api, createKey, tinyJob, multipartJob } from "./helpers.js";

describe("API keys", () => {
  it("refuses a request without a key, with a malformed key and with an unknown key", async () => {
    for (const [auth, detail] of [
      [null, /Authorization/],
      ["not-a-key", /not an EcomID API key/],
      ["ek_test_" + "A".repeat(32), /unknown or revoked/],
    ] as const) {
      const res = await api("/v1/jobs", auth);
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
      const body = (await res.json()) as { code: string; detail: string; request_id: string };
      expect(body.code).toBe("unauthorized");
      expect(body.detail).toMatch(detail);
      expect(body.request_id).toMatch(/^req_/);
    }
  });

  it("stores only a hash: the key itself appears nowhere in the database", async () => {
    const { key } = await createKey("acme");
    const { env } = await import("cloudflare:test");
    const rows = await env.DB.prepare(`SELECT * FROM api_keys`).all();
    expect(JSON.stringify(rows.results)).not.toContain(key);
    expect(JSON.stringify(rows.results)).toContain(key.slice(0, 12));
  });

  it("enforces scopes: a read-only key cannot create jobs", async () => {
    const { key } = await createKey("acme", ["jobs:read"]);
    expect((await api("/v1/jobs", key)).status).toBe(200);
    const res = await multipartJob(key, tinyJob());
    expect(res.status).toBe(403);
    expect(((await res.json()) as { code: string }).code).toBe("forbidden");
  });

  it("lets an admin key create, list and revoke keys, and a revoked key stops working at once", async () => {
    const { key: admin } = await createKey("ops", ["admin"]);
    const created = await api("/v1/admin/keys", admin, { method: "POST", json: { owner_id: "shop-1", scopes: ["jobs:read"] } });
    expect(created.status).toBe(201);
    const k = (await created.json()) as { id: string; key: string; prefix: string; owner_id: string };
    expect(k.key).toMatch(/^ek_test_[A-Za-z0-9]{32}$/);
    expect(k.key.startsWith(k.prefix)).toBe(true);
    expect((await api("/v1/jobs", k.key)).status).toBe(200);

    const list = (await (await api("/v1/admin/keys?owner_id=shop-1", admin)).json()) as { data: Array<{ id: string; key?: string }> };
    expect(list.data.map((d) => d.id)).toEqual([k.id]);
    expect(list.data[0]!.key).toBeUndefined();

    expect((await api(`/v1/admin/keys/${k.id}/revoke`, admin, { method: "POST" })).status).toBe(200);
    const refused = await api("/v1/jobs", k.key);
    expect(refused.status).toBe(401);
    expect(["key_revoked", "unauthorized"]).toContain(((await refused.json()) as { code: string }).code);
  });

  it("keeps non-admin keys out of the admin endpoints", async () => {
    const { key } = await createKey("acme");
    const res = await api("/v1/admin/keys", key);
    expect(res.status).toBe(403);
  });

  it("refuses a bad admin request with a pointer to the field", async () => {
    const { key: admin } = await createKey("ops", ["admin"]);
    const res = await api("/v1/admin/keys", admin, { method: "POST", json: { owner_id: "Bad Owner!", scopes: ["root"] } });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { errors: Array<{ pointer: string }> };
    expect(body.errors.map((e) => e.pointer).sort()).toEqual(["/owner_id", "/scopes/0"]);
  });
});
