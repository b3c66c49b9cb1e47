import { describe, expect, it } from "vitest";
import { signWebhook } from "../../edge/src/lib/standard-webhooks.js";

// The test vector the Standard Webhooks specification publishes (standard-webhooks/standard-webhooks,
// its README and every reference library's tests): a receiver's library verifies what the edge sends
// only if the edge reproduces it exactly.
const SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SPEC_TIMESTAMP = 1614265330;
const SPEC_BODY = '{"test": 2432232314}';
const SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

describe("the edge signs webhooks as Standard Webhooks specifies", () => {
  it("reproduces the specification's test vector", async () => {
    expect(await signWebhook([SPEC_SECRET], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)).toBe(SPEC_SIGNATURE);
  });

  it("sends one signature per secret while a rotated one is still valid, space-separated", async () => {
    const other = "whsec_" + btoa("another secret of 32 bytes......");
    const header = await signWebhook([SPEC_SECRET, other], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY);
    const [first, second] = header.split(" ");
    expect(first).toBe(SPEC_SIGNATURE);
    expect(second).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(second).not.toBe(SPEC_SIGNATURE);
  });
});
