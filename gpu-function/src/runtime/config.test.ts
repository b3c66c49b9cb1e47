import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readConfig } from "./config.js";

const base = { GPU_DISPATCH_TOKEN: "x".repeat(32) };
const dir = mkdtempSync(join(tmpdir(), "ecomid-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the C2PA settings", () => {
  it("are null without a certificate: c2pa+iptc jobs will be refused, others run", () => {
    expect(readConfig(base).c2pa).toBeNull();
  });

  it("take the chain and key as PEM text, es256 and not a development certificate by default", () => {
    expect(readConfig({ ...base, C2PA_CERT_CHAIN_PEM: "chain", C2PA_PRIVATE_KEY_PEM: "key" }).c2pa).toEqual({
      certChainPem: "chain",
      privateKeyPem: "key",
      alg: "es256",
      developmentCertificate: false,
    });
  });

  it("read them from the files named (a mounted secret), with the algorithm and development flag given", () => {
    writeFileSync(join(dir, "chain.pem"), "chain from file");
    writeFileSync(join(dir, "key.pem"), "key from file");
    const config = readConfig({
      ...base,
      C2PA_CERT_CHAIN_FILE: join(dir, "chain.pem"),
      C2PA_PRIVATE_KEY_FILE: join(dir, "key.pem"),
      C2PA_SIGNING_ALG: "ps256",
      C2PA_DEVELOPMENT_CERTIFICATE: "true",
    });
    expect(config.c2pa).toEqual({
      certChainPem: "chain from file",
      privateKeyPem: "key from file",
      alg: "ps256",
      developmentCertificate: true,
    });
  });

  it("refuse half a signing identity, and a value given both as text and as a file", () => {
    expect(() => readConfig({ ...base, C2PA_CERT_CHAIN_PEM: "chain" })).toThrow(/together/);
    expect(() => readConfig({ ...base, C2PA_PRIVATE_KEY_PEM: "key" })).toThrow(/together/);
    expect(() =>
      readConfig({ ...base, C2PA_CERT_CHAIN_PEM: "chain", C2PA_CERT_CHAIN_FILE: join(dir, "chain.pem"), C2PA_PRIVATE_KEY_PEM: "key" }),
    ).toThrow(/not both/);
    expect(() => readConfig({ ...base, C2PA_SIGNING_ALG: "rs256" })).toThrow(/C2PA_SIGNING_ALG/);
  });
});
