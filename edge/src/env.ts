import type { Context } from "hono";
import type { Scope } from "@ecomid/shared/api";
import type { JobIndexWriter } from "./durable-objects/job-index-writer.js";
import type { JobObject } from "./durable-objects/job-object.js";
import type { KeyGuard } from "./durable-objects/key-guard.js";
import type { PoolMonitor } from "./durable-objects/pool-monitor.js";
import type { PublicRateLimiter } from "./durable-objects/public-rate-limiter.js";
import type { DispatchMessage, WebhookMessage } from "./queues/messages.js";

/**
 * Bindings from wrangler.toml (generated Env) plus the secrets, which wrangler types cannot see.
 * Queues carry their message type, so every producer is checked against the consumer's schema.
 */
export interface AppBindings extends Omit<
  Env,
  "JOBS" | "KEY_GUARDS" | "JOB_INDEX" | "POOL_MONITOR" | "PUBLIC_LIMITS" | "DISPATCH_QUEUE" | "WEBHOOK_QUEUE"
> {
  PUBLIC_BASE_URL: string;
  JOBS: DurableObjectNamespace<JobObject>;
  KEY_GUARDS: DurableObjectNamespace<KeyGuard>;
  JOB_INDEX: DurableObjectNamespace<JobIndexWriter>;
  POOL_MONITOR: DurableObjectNamespace<PoolMonitor>;
  PUBLIC_LIMITS: DurableObjectNamespace<PublicRateLimiter>;
  DISPATCH_QUEUE: Queue<DispatchMessage>;
  WEBHOOK_QUEUE: Queue<WebhookMessage>;
  SIGNING_SECRET: string;
  GPU_DISPATCH_TOKEN: string;
  R2_ACCESS_KEY_ID?: string;
  R2_SECRET_ACCESS_KEY?: string;
  R2_ACCOUNT_ID?: string;
  R2_BUCKET?: string;
}

export interface AuthContext {
  keyId: string;
  ownerId: string;
  scopes: Scope[];
}

export interface AppVariables {
  requestId: string;
  auth: AuthContext;
}

export type AppEnv = { Bindings: AppBindings; Variables: AppVariables };
export type AppContext = Context<AppEnv>;
