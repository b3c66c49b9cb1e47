import { describe, expect, it } from "vitest";
import { makeDevelopmentCertificate } from "./development-certificate.js";
import { loadSigner } from "./signer.js";

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
