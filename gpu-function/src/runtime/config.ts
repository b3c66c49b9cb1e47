import { readFileSync } from "node:fs";
import { z } from "zod";

/** The GPU function's settings: read from the environment once, here only, and passed down. */
const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8790),
  HOST: z.string().default("127.0.0.1"),
  BUNDLE_DIR: z.string().default("bundles/tiny"),
  EXECUTION_PROVIDER: z.enum(["auto", "cuda", "cpu"]).default("auto"),
  JOBS_PER_DEVICE: z.coerce.number().int().min(1).max(16).default(1),
  GPU_DISPATCH_TOKEN: z.string().min(16, "GPU_DISPATCH_TOKEN must be set: the edge authenticates with it"),
  MAX_INPUT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(15 * 1024 * 1024),
  CALLBACK_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  HEARTBEAT_SECONDS: z.coerce.number().positive().default(5),
  /** Skip sha256 of every bundle file at start (sizes are still checked); for very large bundles on trusted volumes. */
  BUNDLE_SKIP_HASHES: z.enum(["true", "false"]).default("false"),
  WORKER_ID: z.string().default(""),
  /** "one": one graph's session in memory at a time (onnx.ts SessionOptions.graphsInMemory); CPU only, for rehearsals. */
  GRAPHS_IN_MEMORY: z.enum(["all", "one"]).default("all"),
  /**
   * On SIGTERM/SIGINT, how long a job in flight may run on before it is stopped and
   * handed back to the edge (a retryable worker_shutdown failure). Keep it well under
   * the orchestrator's grace period (Kubernetes: terminationGracePeriodSeconds, 60 in infra/k8s).
   */
  DRAIN_SECONDS: z.coerce.number().min(0).max(3600).default(30),
  /**
   * The inference process is killed (its jobs fail as retryable worker_crashed) when it
   * sends nothing for this long while running a job: a hung GPU call would otherwise
   * hold the job for ever, the heartbeats keeping the edge's lease alive.
   */
  STALL_SECONDS: z.coerce.number().positive().default(300),
  /**
   * The operator's C2PA signing certificate chain (PEM, the signing certificate first) and its private key (PEM),
   * given as text or as paths to files (a mounted secret); without them, jobs asking for c2pa+iptc fail with
   * provenance_unavailable (issue 15). provenance/README.md says what the certificate must be.
   */
  C2PA_CERT_CHAIN_PEM: z.string().optional(),
  C2PA_PRIVATE_KEY_PEM: z.string().optional(),
  C2PA_CERT_CHAIN_FILE: z.string().optional(),
  C2PA_PRIVATE_KEY_FILE: z.string().optional(),
  C2PA_SIGNING_ALG: z.enum(["es256", "ps256"]).default("es256"),
  /** "true" when the certificate is a throwaway one (npm start, the e2e stack): the job's provenance says so. */
  C2PA_DEVELOPMENT_CERTIFICATE: z.enum(["true", "false"]).default("false"),
});

/** The environment variables read here (deployment manifests may set only these). */
export const CONFIG_ENV_VARS = Object.keys(Env.shape);

export type ServiceConfig = {
  port: number;
  host: string;
  bundleDir: string;
  provider: "auto" | "cuda" | "cpu";
  jobsPerDevice: number;
  dispatchToken: string;
  maxInputBytes: number;
  callbackAttempts: number;
  heartbeatMs: number;
  skipHashes: boolean;
  workerId: string;
  graphsInMemory: "all" | "one";
  drainMs: number;
  stallMs: number;
  /** The C2PA signing identity, or null where none is configured. */
  c2pa: C2paSettings | null;
};

export interface C2paSettings {
  certChainPem: string;
  privateKeyPem: string;
  alg: "es256" | "ps256";
  developmentCertificate: boolean;
}

/** PEM text from its variable or from the file its _FILE variable names; never both, so nobody wonders which won. */
function pemFrom(name: string, text: string | undefined, file: string | undefined): string | undefined {
  if (text && file) throw new Error(`gpu-function misconfigured: set ${name}_PEM or ${name}_FILE, not both`);
  if (file) return readFileSync(file, "utf8");
  return text || undefined;
}

function c2paSettings(v: z.infer<typeof Env>): C2paSettings | null {
  const certChainPem = pemFrom("C2PA_CERT_CHAIN", v.C2PA_CERT_CHAIN_PEM, v.C2PA_CERT_CHAIN_FILE);
  const privateKeyPem = pemFrom("C2PA_PRIVATE_KEY", v.C2PA_PRIVATE_KEY_PEM, v.C2PA_PRIVATE_KEY_FILE);
  if (!certChainPem && !privateKeyPem) return null;
  // Half a signing identity is a mistake to report at start, not a deployment that silently stops signing.
  if (!certChainPem || !privateKeyPem)
    throw new Error("gpu-function misconfigured: the C2PA certificate chain and private key must be given together");
  return { certChainPem, privateKeyPem, alg: v.C2PA_SIGNING_ALG, developmentCertificate: v.C2PA_DEVELOPMENT_CERTIFICATE === "true" };
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new Error(`gpu-function misconfigured: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const v = parsed.data;
  return {
    port: v.PORT,
    host: v.HOST,
    bundleDir: v.BUNDLE_DIR,
    provider: v.EXECUTION_PROVIDER,
    jobsPerDevice: v.JOBS_PER_DEVICE,
    dispatchToken: v.GPU_DISPATCH_TOKEN,
    maxInputBytes: v.MAX_INPUT_BYTES,
    callbackAttempts: v.CALLBACK_ATTEMPTS,
    heartbeatMs: v.HEARTBEAT_SECONDS * 1000,
    skipHashes: v.BUNDLE_SKIP_HASHES === "true",
    workerId: v.WORKER_ID || `gpu-${process.pid}`,
    graphsInMemory: v.GRAPHS_IN_MEMORY,
    drainMs: v.DRAIN_SECONDS * 1000,
    stallMs: v.STALL_SECONDS * 1000,
    c2pa: c2paSettings(v),
  };
}
