import { Agent, request } from "node:http";

/** A request as the fuzzer writes it on the wire: raw path, repeated headers, any body. */
export interface RawRequest {
  method: string;
  /** Path and query exactly as sent (nothing is normalised or re-encoded). */
  target: string;
  headers: Array<[string, string]>;
  /** Bytes sent with their Content-Length, or chunks sent chunked without one. */
  body?: Buffer | { chunks: () => Iterable<Buffer>; chunked: true };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The connection broke while the body was being read: `body` is what arrived before. */
  cutShort: boolean;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** An event stream stays open while its job runs: read a little, then hang up. */
const STREAM_READ_MS = 1500;

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/**
 * Sends over node:http rather than fetch, which refuses repeated Authorization
 * headers, odd methods and hand-written bodies. A server that answers before the
 * body is fully sent (a 413 on the declared length) is judged by that answer.
 */
export function send(base: URL, req: RawRequest, timeoutMs = 60_000, onReusedSocket = true): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // Repeated names become an array, which node writes as one header line per value.
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of req.headers) {
      const name = k.toLowerCase();
      const had = headers[name];
      headers[name] = had === undefined ? v : [...(Array.isArray(had) ? had : [had]), v];
    }
    const body = req.body;
    if (Buffer.isBuffer(body) && headers["content-length"] === undefined) headers["content-length"] = String(body.length);
    let answered = false;
    const r = request(
      { host: base.hostname, port: base.port, method: req.method, path: req.target, headers, agent, timeout: timeoutMs },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        let size = 0;
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) flat[k] = Array.isArray(v) ? v.join(", ") : (v ?? "");
        const finish = (cutShort = false) => {
          // An answer before a streamed body was all sent: stop sending the rest.
          if (body && !Buffer.isBuffer(body) && !r.writableFinished) r.destroy();
          resolve({ status: res.statusCode ?? 0, headers: flat, body: Buffer.concat(chunks), cutShort });
        };
        const isStream = (flat["content-type"] ?? "").startsWith("text/event-stream");
        const cut = isStream
          ? setTimeout(() => {
              res.destroy();
              finish();
            }, STREAM_READ_MS)
          : undefined;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size <= MAX_BODY_BYTES) chunks.push(c);
        });
        res.on("end", () => {
          clearTimeout(cut);
          finish();
        });
        res.on("error", () => {
          clearTimeout(cut);
          finish(true);
        });
      },
    );
    r.on("timeout", () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    r.on("error", (e) => {
      if (answered) return;
      // A kept-alive socket the server closed just as this request went out: send it once more on a new one.
      if (onReusedSocket && r.reusedSocket && (e as NodeJS.ErrnoException).code === "ECONNRESET")
        send(base, req, timeoutMs, false).then(resolve, reject);
      else reject(e);
    });
    if (body === undefined) r.end();
    else if (Buffer.isBuffer(body)) r.end(body);
    else void writeChunks(r, body.chunks());
  });
}

async function writeChunks(r: ReturnType<typeof request>, chunks: Iterable<Buffer>): Promise<void> {
  for (const chunk of chunks) {
    if (r.destroyed) return;
    if (!r.write(chunk)) {
      await new Promise<void>((ok) => {
        const done = () => {
          r.off("drain", done);
          r.off("close", done);
          ok();
        };
        r.on("drain", done);
        r.on("close", done);
      });
    }
  }
  if (!r.destroyed) r.end();
}

export function closeConnections(): void {
  agent.destroy();
}
