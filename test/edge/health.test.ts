import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("health and discovery", () => {
  it("answers /health with ok and a request id", async () => {
    const res = await SELF.fetch("http://edge.test/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok" });
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("lists the enabled models that a GPU pool serves, with their limits", async () => {
    // ENABLED_MODELS has both here; only ecomid-tiny has a pool (vitest.config.ts), so only it is on offer.
    const res = await SELF.fetch("http://edge.test/v1/models");
    const body = (await res.json()) as { data: Array<{ id: string; limits: { max_side: number } }> };
    expect(body.data.map((m) => m.id).sort()).toEqual(["ecomid-tiny"]);
    expect(body.data.find((m) => m.id === "ecomid-tiny")!.limits.max_side).toBe(256);
  });

  it("answers an unknown route with problem+json not_found", async () => {
    const res = await SELF.fetch("http://edge.test/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ code: "not_found", status: 404 });
  });
});
