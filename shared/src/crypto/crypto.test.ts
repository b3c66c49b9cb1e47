import { describe, expect, it } from "vitest";
import { hmacSha256, sha256Hex, timingSafeEqual, toHex, webhookSecretBytes } from "./index.js";

const hexBytes = (hex: string) => Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));

describe("hmacSha256", () => {
  it("matches RFC 4231 test case 2 with a string key and test case 1 with a byte key", async () => {
    expect(toHex(await hmacSha256("Jefe", "what do ya want for nothing?"))).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
    expect(toHex(await hmacSha256(hexBytes("0b".repeat(20)), "Hi There"))).toBe(
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    );
  });

  it("keeps a string secret and a byte secret apart even when the cache has seen both", async () => {
    const asText = await hmacSha256("6b6579", "m"); // the hex spelling of "key"
    const asBytes = await hmacSha256(new TextEncoder().encode("key"), "m");
    expect(toHex(asText)).not.toBe(toHex(asBytes));
    expect(toHex(await hmacSha256("key", "m"))).toBe(toHex(asBytes));
  });
});

describe("sha256Hex", () => {
  it("hashes a string's UTF-8 and bytes alike (FIPS 180-2 'abc')", async () => {
    const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    expect(await sha256Hex("abc")).toBe(abc);
    expect(await sha256Hex(new TextEncoder().encode("abc"))).toBe(abc);
    expect(await sha256Hex(new TextEncoder().encode("abc").buffer)).toBe(abc);
  });
});

describe("timingSafeEqual", () => {
  it("is true only for the same length and content, for strings and for bytes", () => {
    expect(timingSafeEqual("abc", "abc")).toBe(true);
    expect(timingSafeEqual("abc", "abd")).toBe(false);
    expect(timingSafeEqual("abc", "ab")).toBe(false);
    expect(timingSafeEqual("", "")).toBe(true);
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false);
  });

  it("compares whole UTF-16 code units, not only their low bytes", () => {
    expect(timingSafeEqual("\u0161", "\u0061")).toBe(false);
  });
});

describe("webhookSecretBytes", () => {
  it("takes whsec_<base64> and bare base64 alike, and refuses what is not base64 or empty", () => {
    // The secret of the Standard Webhooks specification's own example.
    const bytes = webhookSecretBytes("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    expect(bytes && Buffer.from(bytes).toString("base64")).toBe("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    expect(webhookSecretBytes("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).toEqual(bytes);
    expect(webhookSecretBytes("whsec_not base64!")).toBeNull();
    expect(webhookSecretBytes("whsec_")).toBeNull();
  });
});
