import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SigningAlg } from "./signer.js";

/**
 * A throwaway certificate authority and signing certificate, made with the openssl command line, for local
 * development (`npm start`) and the tests; never for production, and named so that a reader shows it.
 *
 * The leaf has what c2pa-rs requires of a C2PA signing certificate (C2PA 2.1 §14.5.1, "Certificate profile";
 * contentauth/c2pa-rs sdk/src/crypto/cose/certificate_profile.rs): it is not self-signed, not a CA, has the
 * digitalSignature key usage marked critical, an extended key usage from the allowed list (emailProtection), and
 * subject and authority key identifiers.
 */
export interface DevelopmentCertificate {
  /** Leaf first, then the CA: what loadSigner's certChainPem takes. */
  certChainPem: string;
  /** The leaf's key, PKCS#8 PEM. */
  privateKeyPem: string;
  /** The CA alone, for a reader's trust anchors. */
  caPem: string;
  alg: SigningAlg;
}

export const DEVELOPMENT_CERTIFICATE_ORGANIZATION = "EcomID LOCAL DEVELOPMENT ONLY - NOT TRUSTED";

const LEAF_EXTENSIONS = [
  "basicConstraints = CA:FALSE",
  "keyUsage = critical, digitalSignature",
  "extendedKeyUsage = emailProtection",
  "subjectKeyIdentifier = hash",
  "authorityKeyIdentifier = keyid:always",
].join("\n");

/** P-256 for ES256; RSA 2048, the smallest RSA key C2PA accepts, for PS256. */
function newKeyArguments(alg: SigningAlg): string[] {
  return alg === "es256" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] : ["-newkey", "rsa:2048"];
}

export function makeDevelopmentCertificate(alg: SigningAlg = "es256", validDays = 365): DevelopmentCertificate {
  const dir = mkdtempSync(join(tmpdir(), "ecomid-dev-cert-"));
  const path = (name: string): string => join(dir, name);
  const openssl = (args: string[]): void => {
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  };
  try {
    openssl([
      "req", "-x509", "-new", ...newKeyArguments("es256"), "-nodes", "-days", String(validDays),
      "-keyout", path("ca.key"), "-out", path("ca.pem"),
      "-subj", `/CN=EcomID development CA/O=${DEVELOPMENT_CERTIFICATE_ORGANIZATION}`,
      "-addext", "basicConstraints = critical, CA:TRUE",
      "-addext", "keyUsage = critical, keyCertSign, cRLSign",
      "-addext", "subjectKeyIdentifier = hash",
    ]); // prettier-ignore
    openssl([
      "req", "-new", ...newKeyArguments(alg), "-nodes", "-keyout", path("leaf.key"), "-out", path("leaf.csr"),
      "-subj", `/CN=EcomID development signer/O=${DEVELOPMENT_CERTIFICATE_ORGANIZATION}`,
    ]); // prettier-ignore
    writeFileSync(path("leaf.ext"), LEAF_EXTENSIONS);
    openssl([
      "x509", "-req", "-in", path("leaf.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"), "-CAcreateserial",
      "-days", String(validDays), "-sha256", "-extfile", path("leaf.ext"), "-out", path("leaf.pem"),
    ]); // prettier-ignore
    const caPem = readFileSync(path("ca.pem"), "utf8");
    return {
      certChainPem: readFileSync(path("leaf.pem"), "utf8") + caPem,
      privateKeyPem: readFileSync(path("leaf.key"), "utf8"),
      caPem,
      alg,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
