/** Below the 100 s idle timeout of Cloudflare's proxy and common load balancers' 60 s. */
const SSE_KEEP_ALIVE_MS = 15_000;
/** How long a client waits before reconnecting (it resumes with Last-Event-ID). */
const RECONNECT_MS = 2000;

export interface EventFrame {
  sequence: number;
  type: string;
  at: string;
  data: unknown;
}

const encoder = new TextEncoder();
const frameText = (f: EventFrame) => `id: ${f.sequence}\nevent: ${f.type}\ndata: ${JSON.stringify(f)}\n\n`;

/**
 * The open Server-Sent Events streams of one job: each starts with a replay of the
 * events it missed, then gets every new event live; a comment frame every 15 s keeps
 * proxies from closing a stream that waits (a job can wait minutes for a GPU), and a
 * write to a client that went away drops it.
 */
export class EventStreams {
  private readonly writers = new Set<WritableStreamDefaultWriter<Uint8Array>>();
  private keepAlive: ReturnType<typeof setInterval> | null = null;

  /** A stream that replays `missed`; it stays open for live events unless `live` is false (a finished job). */
  open(missed: EventFrame[], live: boolean): Response {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    void writer.write(encoder.encode([`retry: ${RECONNECT_MS}\n\n`, ...missed.map(frameText)].join("")));
    if (!live) void writer.close();
    else {
      this.writers.add(writer);
      this.keepAlive ??= setInterval(() => this.ping(), SSE_KEEP_ALIVE_MS);
    }
    return new Response(readable, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-store", "x-accel-buffering": "no" },
    });
  }

  broadcast(frame: EventFrame): void {
    this.writeAll(encoder.encode(frameText(frame)));
  }

  /** The job ended (or is gone): every stream ends after what it was sent. */
  async closeAll(): Promise<void> {
    const writers = [...this.writers];
    this.writers.clear();
    await Promise.all(writers.map((w) => w.close().catch(() => {})));
  }

  /** The keep-alive tick (every 15 s while a stream is open; the interval stops with the last one). */
  ping(): void {
    if (this.writers.size === 0 && this.keepAlive) {
      clearInterval(this.keepAlive);
      this.keepAlive = null;
      return;
    }
    this.writeAll(encoder.encode(": keep-alive\n\n"));
  }

  private writeAll(bytes: Uint8Array): void {
    for (const w of this.writers) w.write(bytes).catch(() => this.writers.delete(w));
  }
}
