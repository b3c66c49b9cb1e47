import { DurableObject } from "cloudflare:workers";
import type { AppBindings } from "../env.js";
import { TokenBuckets, type Admission, type BucketPolicy } from "../lib/token-buckets.js";

/** Objects the per-address buckets are spread over: a fixed number, however many addresses call. */
export const PUBLIC_LIMITER_SHARDS = 16;
/** Addresses one shard remembers; the least recently seen is forgotten first (its bucket starts full again). */
const MAX_CLIENTS_PER_SHARD = 10_000;

/**
 * The token buckets of routes that take no key, per client address, for one shard of
 * the address space. Memory only: it never writes storage, so an address (and anyone
 * with a block of IPv6 addresses can mint them without end) costs a map entry, not a
 * Durable Object with a database.
 */
export class PublicRateLimiter extends DurableObject<AppBindings> {
  private readonly clients = new Map<string, TokenBuckets>();

  admit(client: string, policy: BucketPolicy, nowMs = Date.now()): Admission {
    let buckets = this.clients.get(client);
    if (buckets)
      this.clients.delete(client); // re-inserted below: the map's order is recency
    else {
      buckets = new TokenBuckets();
      if (this.clients.size >= MAX_CLIENTS_PER_SHARD) this.clients.delete(this.clients.keys().next().value!);
    }
    this.clients.set(client, buckets);
    return buckets.admit([policy], nowMs);
  }
}

/** The shard that holds `client`'s bucket (FNV-1a of the address key). */
export function publicRateLimiter(env: AppBindings, client: string): DurableObjectStub<PublicRateLimiter> {
  let hash = 0x811c9dc5;
  for (let i = 0; i < client.length; i++) hash = Math.imul(hash ^ client.charCodeAt(i), 0x01000193) >>> 0;
  return env.PUBLIC_LIMITS.get(env.PUBLIC_LIMITS.idFromName(`shard-${hash % PUBLIC_LIMITER_SHARDS}`));
}
