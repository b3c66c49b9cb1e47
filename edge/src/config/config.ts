import { z } from "zod";
import type { Model } from "@ecomid/shared/api";
import type { AppBindings } from "../env.js";
import { WEBHOOK_RETRY_DELAYS_SECONDS } from "../webhooks/schedule.js";
import { MODEL_CATALOG } from "./models.js";

const intVar = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const ConfigSchema = z.object({
  ENVIRONMENT: z.string().default("local"),
  PUBLIC_BASE_URL: z.url(),
  ALLOW_LOOPBACK_HTTP: z.enum(["true", "false"]).default("false"),
  ENABLED_MODELS: z.string().default("ecomid-sdxl"),
  GPU_POOLS: z.string().default("{}"),
  RATE_LIMIT_REQUESTS_PER_MINUTE: intVar(600),
  RATE_LIMIT_CREATES_PER_MINUTE: intVar(120),
  RATE_LIMIT_PUBLIC_REQUESTS_PER_MINUTE: intVar(300),
  MAX_JOBS_IN_FLIGHT: intVar(8),
  LEASE_SECONDS: intVar(30),
  MAX_ATTEMPTS: intVar(3),
  SIGNED_URL_TTL_SECONDS: intVar(3600),
  UPLOAD_TTL_SECONDS: intVar(86400),
  // Comma-separated seconds; only test stacks shorten Svix's schedule.
  WEBHOOK_RETRY_DELAYS_SECONDS: z
    .string()
    .regex(/^\d+(,\d+)*$/, "a comma-separated list of whole seconds")
    .optional(),
  // DNS-over-HTTPS endpoint used to check where an outbound hostname points before fetching it.
  DNS_RESOLVER_URL: z.url().default("https://cloudflare-dns.com/dns-query"),
  // The request header the platform in front of the worker sets to the client's address
  // (and clients cannot set): "cf-connecting-ip" on Cloudflare; empty where none is trusted.
  CLIENT_ADDRESS_HEADER: z
    .string()
    .regex(/^([a-z0-9-]+)?$/i, "a header name, or empty")
    .default(""),
  // Origins allowed to call the API from a browser: "*" or a comma-separated list.
  CORS_ALLOWED_ORIGINS: z.string().default("*"),
  SIGNING_SECRET: z.string().min(32, "SIGNING_SECRET must be set (at least 32 characters)"),
  GPU_DISPATCH_TOKEN: z.string().min(16, "GPU_DISPATCH_TOKEN must be set (at least 16 characters)"),
});

const PoolsSchema = z.record(z.string(), z.array(z.url()).min(1));

export interface Config {
  environment: string;
  publicBaseUrl: string;
  allowLoopbackHttp: boolean;
  models: Model[];
  pools: Record<string, string[]>;
  requestsPerMinute: number;
  createsPerMinute: number;
  /** Per client address, on the routes that take no key. */
  publicRequestsPerMinute: number;
  /** Lowercase header name the client's address is read from; "" when none is trusted. */
  clientAddressHeader: string;
  maxJobsInFlight: number;
  leaseMs: number;
  maxAttempts: number;
  signedUrlTtlSeconds: number;
  uploadTtlSeconds: number;
  webhookRetryDelaysSeconds: readonly number[];
  dnsResolverUrl: string;
  corsAllowedOrigins: "*" | string[];
  signingSecret: string;
  dispatchToken: string;
}

const cache = new WeakMap<object, Config>();

/** Parses the environment once per isolate; a misconfiguration fails loudly with the variable named. */
export function getConfig(env: AppBindings): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`edge misconfigured: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const v = parsed.data;
  const enabled = new Set(
    v.ENABLED_MODELS.split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const pools = PoolsSchema.parse(JSON.parse(v.GPU_POOLS));
  // Job specs, signed URLs and the callback secret travel in the dispatch: never in clear outside local development.
  const plain = Object.values(pools)
    .flat()
    .filter((u) => !u.startsWith("https://"));
  if (plain.length && v.ALLOW_LOOPBACK_HTTP !== "true")
    throw new Error(`edge misconfigured: GPU_POOLS must use https outside local development (${plain.join(", ")})`);
  // A model is on offer only where some pool runs it: one without a pool would take jobs that can only fail.
  const models = MODEL_CATALOG.filter((m) => enabled.has(m.id) && (pools[m.id]?.length ?? 0) > 0);
  if (!models.length) throw new Error(`edge misconfigured: no model of ENABLED_MODELS (${v.ENABLED_MODELS}) has a pool in GPU_POOLS`);
  const config: Config = {
    environment: v.ENVIRONMENT,
    publicBaseUrl: v.PUBLIC_BASE_URL.replace(/\/$/, ""),
    allowLoopbackHttp: v.ALLOW_LOOPBACK_HTTP === "true",
    models,
    pools,
    requestsPerMinute: v.RATE_LIMIT_REQUESTS_PER_MINUTE,
    createsPerMinute: v.RATE_LIMIT_CREATES_PER_MINUTE,
    publicRequestsPerMinute: v.RATE_LIMIT_PUBLIC_REQUESTS_PER_MINUTE,
    clientAddressHeader: v.CLIENT_ADDRESS_HEADER.toLowerCase(),
    maxJobsInFlight: v.MAX_JOBS_IN_FLIGHT,
    leaseMs: v.LEASE_SECONDS * 1000,
    maxAttempts: v.MAX_ATTEMPTS,
    signedUrlTtlSeconds: v.SIGNED_URL_TTL_SECONDS,
    uploadTtlSeconds: v.UPLOAD_TTL_SECONDS,
    webhookRetryDelaysSeconds: v.WEBHOOK_RETRY_DELAYS_SECONDS
      ? v.WEBHOOK_RETRY_DELAYS_SECONDS.split(",").map(Number)
      : WEBHOOK_RETRY_DELAYS_SECONDS,
    dnsResolverUrl: v.DNS_RESOLVER_URL,
    corsAllowedOrigins:
      v.CORS_ALLOWED_ORIGINS.trim() === "*"
        ? "*"
        : v.CORS_ALLOWED_ORIGINS.split(",")
            .map((s) => s.trim())
            .filter(Boolean),
    signingSecret: v.SIGNING_SECRET,
    dispatchToken: v.GPU_DISPATCH_TOKEN,
  };
  cache.set(env, config);
  return config;
}
