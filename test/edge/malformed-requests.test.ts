import { describe, expect, it } from "vitest";
import { api, createKey, tinyJob } from "./helpers.js";

/** A small seeded generator, so a failure names a reproducible case. */
function rng(seed: number) {
  return () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

const WEIRD: unknown[] = [
  null,
  true,
  -1,
  0,
  1e308,
  -1e-308,
  "",
  "x".repeat(5000),
  "☃",
  [],
  {},
  [1, 2, 3],
  { a: { b: { c: [] } } },
  2 ** 53,
  "NaN",
  "../../etc/passwd",
];

function mutate(value: unknown, r: () => number, depth = 0): unknown {
  if (value === null || typeof value !== "object" || depth > 4) return r() < 0.5 ? WEIRD[Math.floor(r() * WEIRD.length)] : value;
  const copy: Record<string, unknown> = Array.isArray(value)
    ? ([...value] as unknown as Record<string, unknown>)
    : { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const key = keys[Math.floor(r() * keys.length)] ?? "extra";
  const roll = r();
  if (roll < 0.2) delete copy[key];
  else if (roll < 0.3) copy[`x${Math.floor(r() * 100)}`] = WEIRD[Math.floor(r() * WEIRD.length)];
  else copy[key] = mutate(copy[key], r, depth + 1);
  return copy;
}

describe("malformed requests", () => {
  it("never get a 5xx: each refusal is problem+json with a code", async () => {
    const { key } = await createKey("fuzz");
    const r = rng(20261126);
    const endpoints: Array<[string, string, () => unknown]> = [
      ["POST", "/v1/jobs", () => mutate(tinyJob({}, { reference_images: [{ url: "https://example.invalid/a.png" }] }), r)],
      ["POST", "/v1/uploads", () => mutate({ content_type: "image/png", bytes: 100 }, r)],
      ["POST", "/v1/admin/keys", () => mutate({ owner_id: "x", scopes: ["jobs:read"] }, r)],
    ];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 150; i++) {
      const [method, path, body] = endpoints[i % endpoints.length]!;
      const raw = r() < 0.1 ? JSON.stringify(body()).slice(0, Math.floor(r() * 40)) : JSON.stringify(body());
      const res = await api(path, key, { method, headers: { "content-type": "application/json" }, body: raw });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status, `${method} ${path} ${raw.slice(0, 200)}`).toBeLessThan(500);
      if (res.status >= 400) {
        expect(res.headers.get("content-type")).toBe("application/problem+json");
        expect(((await res.json()) as { code: string }).code).toMatch(/^[a-z_]+$/);
      } else {
        await res.arrayBuffer();
      }
    }
    // The generator must actually reach the refusals, not just one path.
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThanOrEqual(3);
  });

  it("refuses hostile headers and paths cleanly", async () => {
    const { key } = await createKey("fuzz");
    const cases: Array<[string, RequestInit]> = [
      ["/v1/jobs/%00", {}],
      ["/v1/jobs/job_" + "a".repeat(500), {}],
      ["/v1/jobs?limit=-5", {}],
      ["/v1/jobs?cursor=" + "%".repeat(3), {}],
      ["/v1/jobs", { method: "POST", headers: { "content-type": "application/json", "idempotency-key": "é".repeat(3) }, body: "{}" }],
      ["/v1/jobs", { method: "POST", headers: { "content-type": "multipart/form-data" }, body: "x" }],
      ["/v1/jobs/job_00000000000000000000000000/events", { headers: { "last-event-id": "-1e9" } }],
      ["/files/..%2F..%2Fetc%2Fpasswd?method=GET&exp=9999999999&sig=00", {}],
      ["/internal/gpu/jobs/job_x/callbacks", { method: "POST", headers: { "ecomid-attempt": "1" }, body: "{}" }],
    ];
    for (const [path, init] of cases) {
      const res = await api(path, key, init);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
      expect(res.headers.get("content-type"), path).toBe("application/problem+json");
    }
  });
});
