import { createServer } from "node:net";
import { isRepeatable } from "@ecomid/shared/sdk";

/** A port that was free on 127.0.0.1 a moment ago (the OS picks it; the caller binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * fetch, sent again (twice at most) when the connection breaks under a request that is
 * safe to repeat (a read, or one with an Idempotency-Key), as the SDK does
 * (shared/src/sdk/retry.ts): a keep-alive socket that the dev server closes just as a
 * request goes out is the client's lot, not a finding about the API.
 */
export async function fetchResendingOnBreak(url: string, init: RequestInit & { headers: Record<string, string> }): Promise<Response> {
  const repeatable = isRepeatable(init.method ?? "GET", init.headers);
  for (let resent = 0; ; resent++) {
    try {
      return await fetch(url, init);
    } catch (e) {
      if (!repeatable || resent >= 2 || !(e instanceof TypeError)) throw e;
      await sleep(100 * (resent + 1));
    }
  }
}

/** Polls until `check` returns a value (not undefined), or fails with `what` after `timeoutMs`. */
export async function waitUntil<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, everyMs = 250): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      last = e; // not up yet, connection refused and the like
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
}

/** Resolves once `url` answers 200, or rejects at once when `exited` settles first (the process died). */
export async function waitForHealthy(url: string, timeoutMs: number, exited?: Promise<number | null>): Promise<void> {
  let dead: { code: number | null } | undefined;
  void exited?.then((code) => (dead = { code }));
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (dead) throw new Error(`the process behind ${url} exited (${dead.code}) before it was healthy`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await r.body?.cancel();
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s`);
}
