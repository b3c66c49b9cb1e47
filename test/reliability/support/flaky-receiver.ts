import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Rng } from "./rng.js";

/** What the receiver did with one request. */
export type ReceiverOutcome = "accepted" | InjectedFailure;
export type InjectedFailure = "http_500" | "http_503" | "reset" | "timeout";

export interface ReceivedRequest {
  atMs: number;
  webhookId: string | null;
  outcome: ReceiverOutcome;
}

/** An accepted (2xx) delivery, raw, as a customer's endpoint must verify it. */
export interface AcceptedDelivery {
  atMs: number;
  /** Wall-clock ms, for checking the signature's timestamp as of arrival. */
  receivedAt: number;
  headers: Record<string, string | undefined>;
  body: string;
}

export interface FlakyReceiverOptions {
  rng: Rng;
  /** Share of requests that get a failure instead of a 204. */
  failureRate: number;
  /** Failures of one webhook-id in a row before the next one is let through (bounds a delivery's worst case). */
  maxFailuresPerDelivery: number;
  /** Timeouts cost the sender its full fetch timeout (15 s): at most this many are injected. */
  maxTimeouts: number;
  /** How long a "timeout" request is held before the receiver drops it (beyond the sender's timeout). */
  holdMs: number;
}

const FAILURE_WEIGHTS: ReadonlyArray<readonly [InjectedFailure, number]> = [
  ["http_500", 4],
  ["http_503", 2],
  ["reset", 3],
  ["timeout", 1],
];

/**
 * A customer's webhook endpoint on 127.0.0.1 that fails about `failureRate` of its
 * requests (500, 503, a connection reset without an answer, or no answer until the
 * sender gives up), drawn from a seeded generator in arrival order, and that can go
 * completely down (port closed, open connections cut) and come back on the same port.
 */
export class FlakyWebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  readonly accepted: AcceptedDelivery[] = [];
  readonly downtimes: Array<{ fromMs: number; toMs: number | null }> = [];
  private readonly failuresInARow = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private readonly held = new Set<ServerResponse>();
  private server: Server | null = null;
  private port = 0;
  private timeouts = 0;
  /** Wall-clock ms at construction; atMs values count from here. */
  readonly startedAt = Date.now();

  constructor(private readonly options: FlakyReceiverOptions) {}

  get elapsedMs(): number {
    return Date.now() - this.startedAt;
  }

  async start(): Promise<string> {
    await this.listen(0);
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  /** Closes the port: deliveries now meet "connection refused" (or a cut connection). */
  async goDown(): Promise<void> {
    this.downtimes.push({ fromMs: this.elapsedMs, toMs: null });
    await this.close();
  }

  async comeBack(): Promise<void> {
    await this.listen(this.port);
    this.downtimes.at(-1)!.toMs = this.elapsedMs;
  }

  async stop(): Promise<void> {
    await this.close();
  }

  injectedFailures(): Record<InjectedFailure, number> {
    const counts: Record<InjectedFailure, number> = { http_500: 0, http_503: 0, reset: 0, timeout: 0 };
    for (const r of this.requests) if (r.outcome !== "accepted") counts[r.outcome]++;
    return counts;
  }

  private listen(port: number): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        this.port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const res of this.held) res.destroy();
    this.held.clear();
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const webhookId = typeof req.headers["webhook-id"] === "string" ? req.headers["webhook-id"] : null;
      const outcome = this.decide(webhookId);
      this.requests.push({ atMs: this.elapsedMs, webhookId, outcome });
      switch (outcome) {
        case "accepted": {
          const header = (name: string) => (typeof req.headers[name] === "string" ? (req.headers[name] as string) : undefined);
          this.accepted.push({
            atMs: this.elapsedMs,
            receivedAt: Date.now(),
            headers: {
              "webhook-id": header("webhook-id"),
              "webhook-timestamp": header("webhook-timestamp"),
              "webhook-signature": header("webhook-signature"),
            },
            body: Buffer.concat(chunks).toString("utf8"),
          });
          res.writeHead(204).end();
          break;
        }
        case "http_500":
        case "http_503":
          res.writeHead(outcome === "http_500" ? 500 : 503, { "content-type": "text/plain" }).end("injected failure");
          break;
        case "reset":
          req.socket.destroy();
          break;
        case "timeout": {
          // No answer: the sender's own timeout ends it; the receiver lets go a while later.
          this.held.add(res);
          const timer = setTimeout(() => {
            this.held.delete(res);
            res.destroy();
          }, this.options.holdMs);
          res.on("close", () => {
            clearTimeout(timer);
            this.held.delete(res);
          });
          break;
        }
      }
    });
  }

  private decide(webhookId: string | null): ReceiverOutcome {
    const key = webhookId ?? "";
    const inARow = this.failuresInARow.get(key) ?? 0;
    // The draw happens for every request, so the sequence of decisions depends on the seed only.
    const fail = this.options.rng.chance(this.options.failureRate);
    let kind = this.options.rng.pick(FAILURE_WEIGHTS);
    if (!fail || inARow >= this.options.maxFailuresPerDelivery) {
      this.failuresInARow.delete(key);
      return "accepted";
    }
    if (kind === "timeout") {
      if (this.timeouts >= this.options.maxTimeouts) kind = "http_500";
      else this.timeouts++;
    }
    this.failuresInARow.set(key, inARow + 1);
    return kind;
  }
}
