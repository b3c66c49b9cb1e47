import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeDevelopmentCertificate } from "../../gpu-function/src/provenance/development-certificate.js";

/** A throwaway C2PA certificate written for a local GPU function, and the settings that make it use it. */
export interface DevelopmentC2pa {
  /** The GPU function's C2PA settings (runtime/config.ts): the files below, flagged as a development certificate. */
  env: Record<string, string>;
  /** The throwaway CA: the trust anchor under which a reader shows these outputs as Trusted. */
  caFile: string;
}

/**
 * Makes a fresh development CA and signing certificate (organisation "EcomID LOCAL DEVELOPMENT ONLY - NOT TRUSTED")
 * in `dir`, so a local stack's outputs carry Content Credentials as production's do, signed by a certificate that
 * no reader trusts and that names itself as such. A new one each start: nothing to keep, nothing to leak.
 */
export function writeDevelopmentC2pa(dir: string): DevelopmentC2pa {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certificate = makeDevelopmentCertificate(ALG);
  const files = developmentC2paFiles(dir);
  writeFileSync(files.chain, certificate.certChainPem);
  writeFileSync(files.key, certificate.privateKeyPem, { mode: 0o600 });
  writeFileSync(files.ca, certificate.caPem);
  return developmentC2pa(dir);
}

/** The settings for the certificate writeDevelopmentC2pa wrote in `dir` before (a GPU function restarted in the same stack). */
export function developmentC2pa(dir: string): DevelopmentC2pa {
  const files = developmentC2paFiles(dir);
  return {
    env: {
      C2PA_CERT_CHAIN_FILE: files.chain,
      C2PA_PRIVATE_KEY_FILE: files.key,
      C2PA_SIGNING_ALG: ALG,
      C2PA_DEVELOPMENT_CERTIFICATE: "true",
    },
    caFile: files.ca,
  };
}

const ALG = "es256";

function developmentC2paFiles(dir: string): { chain: string; key: string; ca: string } {
  return {
    chain: join(dir, "DEVELOPMENT-ONLY-signing-chain.pem"),
    key: join(dir, "DEVELOPMENT-ONLY-signing-key.pem"),
    ca: join(dir, "DEVELOPMENT-ONLY-ca.pem"),
  };
}
