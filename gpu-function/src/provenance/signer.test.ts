import { describe, expect, it } from "vitest";
import { makeDevelopmentCertificate } from "./development-certificate.js";
import { loadSigner, padToExactly } from "./signer.js";

describe("loadSigner", () => {
  const es256 = makeDevelopmentCertificate("es256");

  it("returns exactly reserveSize bytes for claims of any length", async () => {
    const signer = loadSigner(es256);
    for (const length of [0, 1, 23, 24, 255, 256, 5000]) {
      expect((await signer.sign(new Uint8Array(length).fill(7))).length).toBe(signer.reserveSize);
    }
  });

  it("refuses a key that is not the leaf certificate's", () => {
    const other = makeDevelopmentCertificate("es256");
    expect(() => loadSigner({ ...es256, privateKeyPem: other.privateKeyPem })).toThrow(/not the key of the first certificate/);
  });

  it("refuses a key that does not fit the algorithm", () => {
    expect(() => loadSigner({ ...es256, alg: "ps256" })).toThrow(/RSA/);
  });

  it("refuses a chain with no certificate", () => {
    expect(() => loadSigner({ ...es256, certChainPem: "" })).toThrow(/no PEM certificate/);
  });
});

describe("padToExactly", () => {
  // A pad of 255 bytes has a 2-byte head and one of 256 a 3-byte head, so some sizes need the second "pad2" entry:
  // every size from the smallest upwards, across the 23/24 and 255/256 head boundaries, must come out exact.
  it("reaches every size across the CBOR head-length boundaries", () => {
    const protectedHeader = new Uint8Array(40).fill(1);
    const signature = new Uint8Array(64).fill(2);
    let reachable = 0;
    for (let target = 0; target < 800; target++) {
      let length: number | undefined;
      try {
        length = padToExactly(protectedHeader, signature, target).length;
      } catch {
        // Only sizes below the unpadded structure may be out of reach, never one after a reachable size.
        expect(reachable).toBe(0);
        continue;
      }
      expect(length).toBe(target);
      reachable++;
    }
    // 40 + 64 bytes of content and a few bytes of framing leave most of 0..799 reachable.
    expect(reachable).toBeGreaterThan(600);
  });
});
