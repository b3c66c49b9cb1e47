import { join } from "node:path";
import { createLocalKey } from "../../../scripts/keys.js";
import { startStack, stopStack, type StackInfo } from "../../e2e/support/stack.js";

export interface FuzzStack {
  stack: StackInfo;
  adminKey: string;
}

/**
 * The real stack (wrangler dev + GPU function) for the fuzz suites. Rate limits (per key
 * and per client address) are raised so generated requests reach the routes instead of
 * the token bucket (the in-flight cap stays at its default unless a suite raises it, so
 * its 429 is met too); the DNS resolver points
 * at a closed loopback port, so nothing generated can make the edge look up or reach
 * a host outside this machine.
 */
export async function startFuzzStack(edgeVars: Record<string, string> = {}): Promise<FuzzStack> {
  const stack = await startStack({
    edgeVars: {
      RATE_LIMIT_REQUESTS_PER_MINUTE: "1000000",
      RATE_LIMIT_CREATES_PER_MINUTE: "1000000",
      RATE_LIMIT_PUBLIC_REQUESTS_PER_MINUTE: "1000000",
      DNS_RESOLVER_URL: "http://127.0.0.1:9/dns-query",
      ...edgeVars,
    },
  });
  try {
    const { key } = await createLocalKey("fuzz-admin", ["admin"], "fuzz admin", join(stack.stateDir, "wrangler"));
    return { stack, adminKey: key };
  } catch (e) {
    await stopStack(stack.stateDir);
    throw e;
  }
}
