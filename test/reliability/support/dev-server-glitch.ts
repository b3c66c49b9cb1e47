/**
 * Answers that wrangler's dev server gives on its own when its hop to the worker breaks
 * (cloudflare/workers-sdk#14641: a kept-alive connection between its proxy and the worker
 * is closed under a request, and the request's body cannot be sent again). They are not
 * the worker's: every answer of the worker carries X-Request-Id and, when it refuses,
 * application/problem+json. A request given one of these is sent again, and what comes
 * back then is judged like any other answer, so a fault of the worker still fails the run.
 */
export const DEV_PROXY_RESTART = "Your worker restarted mid-request";
/** Miniflare's entry worker answers 500 with the stack of what its own fetch to the worker threw. */
const MINIFLARE_ENTRY_FRAME = "miniflare/dist/src/workers/core/entry.worker";

export interface DevServerAnswer {
  status: number;
  method: string;
  requestId: string | null | undefined;
  contentType: string | null | undefined;
  body: string;
}

export type DevServerGlitch = "proxy-restart" | "proxy-disconnect" | "entry-exception";

export function devServerGlitch(a: DevServerAnswer): DevServerGlitch | null {
  if (a.status < 500 || a.requestId) return null;
  if (!(a.contentType ?? "").startsWith("text/plain")) return null;
  if (a.status === 503 && a.body.startsWith(DEV_PROXY_RESTART)) return "proxy-restart";
  // workerd's own answer when the proxy's fetch rejects as disconnected: its status text, no JSON.
  if (a.status === 503 && !a.body.trimStart().startsWith("{")) return "proxy-disconnect";
  if (a.status === 500 && a.body.includes(MINIFLARE_ENTRY_FRAME)) return "entry-exception";
  // A HEAD answer has no body to name its source; without a request id it did not come from the worker.
  if (a.status === 500 && a.method === "HEAD" && a.body === "") return "entry-exception";
  return null;
}
