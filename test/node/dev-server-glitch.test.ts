import { describe, expect, it } from "vitest";
import { DEV_PROXY_RESTART, devServerGlitch } from "../reliability/support/dev-server-glitch.js";

const plain = "text/plain;charset=UTF-8";

describe("the reliability suites tell wrangler dev's own answers from the worker's", () => {
  it("knows the dev proxy's restart answer, workerd's disconnect answer and miniflare's entry stack", () => {
    expect(
      devServerGlitch({
        status: 503,
        method: "POST",
        requestId: null,
        contentType: plain,
        body: `${DEV_PROXY_RESTART}. Please try again.`,
      }),
    ).toBe("proxy-restart");
    expect(devServerGlitch({ status: 503, method: "POST", requestId: null, contentType: plain, body: "Service Unavailable" })).toBe(
      "proxy-disconnect",
    );
    const stack =
      "TypeError: Cannot reconstruct a Request with a used body.\n    at async Object.fetch (file:///x/node_modules/miniflare/dist/src/workers/core/entry.worker.js:4660:22)";
    expect(devServerGlitch({ status: 500, method: "POST", requestId: null, contentType: plain, body: stack })).toBe("entry-exception");
  });

  it("never takes the worker's answer, or a worker crash, for one", () => {
    // The worker's 503 carries a request id and problem+json.
    expect(
      devServerGlitch({
        status: 503,
        method: "POST",
        requestId: "req_1",
        contentType: "application/problem+json",
        body: '{"code":"temporarily_unavailable"}',
      }),
    ).toBeNull();
    // workerd's 500 for an exception the worker let escape names no miniflare frame.
    expect(devServerGlitch({ status: 500, method: "POST", requestId: null, contentType: plain, body: "Internal Server Error" })).toBeNull();
    expect(devServerGlitch({ status: 500, method: "GET", requestId: null, contentType: plain, body: "" })).toBeNull();
    expect(devServerGlitch({ status: 404, method: "GET", requestId: null, contentType: plain, body: DEV_PROXY_RESTART })).toBeNull();
  });
});
