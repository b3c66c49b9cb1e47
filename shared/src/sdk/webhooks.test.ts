import { describe, expect, it } from "vitest";
import { verifyWebhook, WebhookVerificationError } from "./webhooks.js";

// The published Standard Webhooks / Svix test vector.
const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const body = '{"test": 2432232314}';
const good = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
const now = 1614265330 * 1000;
const headers = (signature = good, timestamp = "1614265330") => ({
  "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
  "webhook-timestamp": timestamp,
  "webhook-signature": signature,
});

describe("verifyWebhook", () => {
  it("accepts the Standard Webhooks test vector and returns the parsed body", async () => {
    await expect(verifyWebhook(secret, headers(), body, { now })).resolves.toEqual({ test: 2432232314 });
  });

  it("accepts a Headers object and raw bytes", async () => {
    await expect(verifyWebhook(secret, new Headers(headers()), new TextEncoder().encode(body), { now })).resolves.toEqual({
      test: 2432232314,
    });
  });

  it("accepts when any one of several signatures matches (secret rotation)", async () => {
    const sigs = `v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v1a,ignored ${good}`;
    await expect(verifyWebhook(secret, headers(sigs), body, { now })).resolves.toBeTruthy();
  });

  it("refuses a tampered body", async () => {
    await expect(verifyWebhook(secret, headers(), '{"test": 2432232315}', { now })).rejects.toThrow(WebhookVerificationError);
  });

  it("refuses another secret", async () => {
    await expect(verifyWebhook("whsec_" + btoa("another secret!!"), headers(), body, { now })).rejects.toThrow(
      /no webhook-signature matches/,
    );
  });

  it("refuses a tampered id or timestamp", async () => {
    await expect(verifyWebhook(secret, { ...headers(), "webhook-id": "msg_other" }, body, { now })).rejects.toThrow(/no webhook-signature/);
    await expect(verifyWebhook(secret, headers(good, "1614265331"), body, { now })).rejects.toThrow(/no webhook-signature/);
  });

  it("refuses a timestamp outside the tolerance, either way", async () => {
    await expect(verifyWebhook(secret, headers(), body, { now: now + 301_000 })).rejects.toThrow(/tolerance/);
    await expect(verifyWebhook(secret, headers(), body, { now: now - 301_000 })).rejects.toThrow(/tolerance/);
    await expect(verifyWebhook(secret, headers(), body, { now: now + 3_000_000, toleranceSeconds: 3600 })).resolves.toBeTruthy();
  });

  it("refuses missing headers and malformed signatures", async () => {
    await expect(verifyWebhook(secret, {}, body, { now })).rejects.toThrow(/missing/);
    await expect(verifyWebhook(secret, headers("v1,***"), body, { now })).rejects.toThrow(/no webhook-signature/);
    await expect(verifyWebhook(secret, headers("v2," + good.slice(3)), body, { now })).rejects.toThrow(/no webhook-signature/);
  });
});
