import { request } from "node:http";
import { describe, expect, inject, it } from "vitest";

/**
 * What only the wire can carry: a TRACE (a fetch Request refuses the method, so the
 * workerd tests cannot send it) to a known path gets 405 with Allow, like any other
 * method the path does not take (test/edge/http-methods.test.ts), and never echoes the
 * request back.
 */
function send(
  method: string,
  path: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(path, inject("e2eStack").edgeUrl);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { authorization: "Bearer ek_test_TRACEsecret0000000000000000000000" } }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("TRACE over the wire", () => {
  it("gets 405 with Allow on known paths, 404 elsewhere, and echoes nothing", async () => {
    for (const [path, allow] of [
      ["/v1/jobs", "GET, HEAD, OPTIONS, POST"],
      ["/health", "GET, HEAD, OPTIONS"],
      ["/v1/jobs/job_x/cancel", "OPTIONS, POST"],
    ] as const) {
      const res = await send("TRACE", path);
      expect(res.status, path).toBe(405);
      expect(res.headers.allow, path).toBe(allow);
      expect(res.headers["content-type"]).toBe("application/problem+json");
      expect(res.body).not.toContain("TRACEsecret");
    }
    expect((await send("TRACE", "/nothing/here")).status).toBe(404);
  });
});
