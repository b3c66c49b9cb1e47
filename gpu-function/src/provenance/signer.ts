import { X509Certificate, createPrivateKey, constants, sign as cryptoSign, type KeyObject } from "node:crypto";
import { CborMap, CborTagged, encodeCbor, headLength, type CborValue } from "./cbor.js";

/**
 * The operator's signing identity as the C2PA WebAssembly build wants it.
 *
 * @contentauth/c2pa-wasm's signer uses c2pa-rs's "direct COSE handling" (contentauth/c2pa-js,
 * packages/c2pa-wasm/src/wasm_signer.rs: `direct_cose_handling() -> true`, `certs() -> []`): the callback receives the
 * claim bytes and must return the whole COSE_Sign1 itself, exactly `reserveSize` bytes long, certificate chain
 * included. This module builds that structure with node:crypto.
 */
export type SigningAlg = "es256" | "ps256";

export interface SignerConfig {
  /** PEM certificates, the signing (leaf) certificate first, then its issuers up to (not necessarily including) the root. */
  certChainPem: string;
  /** The leaf's private key, PEM (PKCS#8 or the algorithm's own form). */
  privateKeyPem: string;
  alg: SigningAlg;
}

export interface ProvenanceSigner {
  readonly alg: SigningAlg;
  /** Bytes c2pa-rs reserves for the signature box; `sign` returns exactly this many. */
  readonly reserveSize: number;
  /** The leaf certificate's subject, for logs and the job's provenance summary. */
  readonly subject: string;
  sign(claim: Uint8Array): Promise<Uint8Array>;
}

/** COSE algorithm identifiers: ES256 (RFC 9053 §2.1), PS256 (RFC 8230 §2). */
const COSE_ALG: Record<SigningAlg, number> = { es256: -7, ps256: -37 };
/** COSE header labels: alg (RFC 9052 §3.1), x5chain (RFC 9360 §2). */
const HEADER_ALG = 1;
const HEADER_X5CHAIN = 33;
/** COSE_Sign1_Tagged (RFC 9052 §4.2). */
const TAG_COSE_SIGN1 = 18;
/** SHA-256 digest length: the PSS salt length PS256 uses (RFC 8230 §2). */
const PS256_SALT_LENGTH = 32;
/** Headroom above the unpadded signature so the padding can always land on the reserved size exactly. */
const RESERVE_HEADROOM = 64;

function splitPemCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error("certChainPem holds no PEM certificate");
  return blocks.map((block) => new X509Certificate(block));
}

function checkKeyFitsAlg(key: KeyObject, alg: SigningAlg): void {
  if (alg === "es256") {
    if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
      throw new Error("es256 needs an EC P-256 private key");
    }
  } else if (key.asymmetricKeyType !== "rsa" && key.asymmetricKeyType !== "rsa-pss") {
    throw new Error("ps256 needs an RSA private key");
  }
}

function signatureBytes(key: KeyObject, alg: SigningAlg, toBeSigned: Uint8Array): Uint8Array {
  // COSE carries ECDSA signatures as r || s (RFC 9053 §2.1), not DER.
  if (alg === "es256") return cryptoSign("sha256", toBeSigned, { key, dsaEncoding: "ieee-p1363" });
  return cryptoSign("sha256", toBeSigned, {
    key,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: PS256_SALT_LENGTH,
  });
}

function coseSign1(protectedHeader: Uint8Array, padding: readonly (readonly [string, number])[], signature: Uint8Array): Uint8Array {
  const unprotected = new CborMap(padding.map(([label, length]) => [label, new Uint8Array(length)] as const));
  // The payload (the claim) is detached: c2pa-rs stores the claim beside the signature (C2PA spec §14.2).
  const sign1: CborValue = [protectedHeader, unprotected, null, signature];
  return encodeCbor(new CborTagged(TAG_COSE_SIGN1, sign1));
}

/**
 * Zero-filled "pad" (and, when a length cannot be reached with one, "pad2") entries in the unprotected header
 * bring the COSE_Sign1 to exactly `target` bytes, as c2pa-rs pads its own signatures.
 */
export function padToExactly(protectedHeader: Uint8Array, signature: Uint8Array, target: number): Uint8Array {
  for (const labels of [["pad"], ["pad", "pad2"]]) {
    const unpadded = coseSign1(
      protectedHeader,
      labels.map((label) => [label, 0] as const),
      signature,
    ).length;
    const missing = target - unpadded;
    // An empty byte string's head is one byte; a pad of n bytes has a head of headLength(n) bytes.
    for (let padLength = Math.max(0, missing - 9); padLength <= missing; padLength++) {
      if (headLength(padLength) - 1 + padLength === missing) {
        const padding = labels.map((label, index) => [label, index === 0 ? padLength : 0] as const);
        return coseSign1(protectedHeader, padding, signature);
      }
    }
  }
  throw new Error(`cannot pad the COSE signature to ${target} bytes`);
}

/** Checks the chain and key (that the key belongs to the leaf, that it fits `alg`) and returns the signer. */
export function loadSigner(config: SignerConfig): ProvenanceSigner {
  const chain = splitPemCertificates(config.certChainPem);
  const key = createPrivateKey(config.privateKeyPem);
  checkKeyFitsAlg(key, config.alg);
  const [leaf] = chain;
  if (leaf === undefined) throw new Error("certChainPem holds no PEM certificate");
  if (!leaf.checkPrivateKey(key)) throw new Error("privateKeyPem is not the key of the first certificate in certChainPem");

  const protectedHeader = encodeCbor(
    new CborMap([
      [HEADER_ALG, COSE_ALG[config.alg]],
      // RFC 9360 §2: one certificate is a byte string, several are an array of them, the leaf first.
      [HEADER_X5CHAIN, chain.length === 1 ? new Uint8Array(leaf.raw) : chain.map((certificate) => new Uint8Array(certificate.raw))],
    ]),
  );
  const sigStructure = (claim: Uint8Array): Uint8Array =>
    // RFC 9052 §4.4: Sig_structure = ["Signature1", body_protected, external_aad, payload].
    encodeCbor(["Signature1", protectedHeader, new Uint8Array(0), claim]);
  // Signature lengths are fixed per key (64 bytes for P-256 r||s, the modulus length for RSA), so the size of the
  // structure is known before any claim is signed.
  const signatureLength = signatureBytes(key, config.alg, sigStructure(new Uint8Array(0))).length;
  const unpaddedSize = coseSign1(protectedHeader, [["pad", 0]], new Uint8Array(signatureLength)).length;
  const reserveSize = unpaddedSize + RESERVE_HEADROOM;

  return {
    alg: config.alg,
    reserveSize,
    subject: leaf.subject,
    sign: (claim) => {
      const signature = signatureBytes(key, config.alg, sigStructure(claim));
      return Promise.resolve(padToExactly(protectedHeader, signature, reserveSize));
    },
  };
}
