import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { WebhookHeaders } from "@ecomid/shared/sdk";

export interface ReceivedWebhook {
  headers: WebhookHeaders;
  body: string;
}

/**
 * A customer's webhook endpoint on 127.0.0.1 (the local edge allows plain http to
 * loopback). Records every delivery and answers 204; `next(predicate)` waits for one.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private server: Server | null = null;
  private waiters: Array<{ match: (w: ReceivedWebhook) => boolean; resolve: (w: ReceivedWebhook) => void }> = [];

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const hook = { headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
        this.received.push(hook);
        res.writeHead(204).end();
        for (const w of this.waiters.filter((w) => w.match(hook))) w.resolve(hook);
        this.waiters = this.waiters.filter((w) => !w.match(hook));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  next(match: (w: ReceivedWebhook) => boolean, timeoutMs: number): Promise<ReceivedWebhook> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching webhook within ${timeoutMs / 1000} s (got ${this.received.length})`)),
        timeoutMs,
      );
      this.waiters.push({ match, resolve: (w) => (clearTimeout(timer), resolve(w)) });
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
