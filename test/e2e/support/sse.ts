import { api } from "./api.js";
import { sleep } from "./net.js";

export interface SseEvent {
  id: number;
  event: string;
  data: { sequence: number; type: string; at: string; data: Record<string, unknown> };
}

const TERMINAL_EVENTS = ["job.succeeded", "job.failed", "job.canceled", "job.aborted"];

/**
 * Follows GET /v1/jobs/{id}/events until a terminal event arrives and returns every
 * event once, in order. `onEvent` sees each one as it arrives, so a test can act
 * mid-job (cancel, kill the GPU function). Like EventSource, a stream that ends early
 * is resumed with Last-Event-ID (the documented way): wrangler dev restarts the worker
 * when a source file changes, which drops open streams. Event ids must stay gapless.
 */
export async function followEvents(jobId: string, timeoutMs: number, onEvent: (e: SseEvent) => void = () => {}): Promise<SseEvent[]> {
  const deadline = AbortSignal.timeout(timeoutMs);
  const events: SseEvent[] = [];
  try {
    for (;;) {
      const lastId = events.at(-1)?.id ?? 0;
      let response: Response;
      try {
        response = await api(`/v1/jobs/${jobId}/events`, {
          headers: { accept: "text/event-stream", "last-event-id": String(lastId) },
          signal: deadline,
        });
      } catch (e) {
        if (deadline.aborted) throw e;
        await sleep(500); // the worker is restarting
        continue;
      }
      if (response.status >= 500) {
        await response.body?.cancel();
        await sleep(500);
        continue;
      }
      if (response.status !== 200) throw new Error(`events gave ${response.status}: ${await response.text()}`);
      if (!response.headers.get("content-type")?.startsWith("text/event-stream"))
        throw new Error(`events gave ${response.headers.get("content-type")}`);
      for await (const frame of frames(response.body!)) {
        if (frame.id !== (events.at(-1)?.id ?? 0) + 1) throw new Error(`event ids jump from ${events.at(-1)?.id ?? 0} to ${frame.id}`);
        events.push(frame);
        onEvent(frame);
        if (TERMINAL_EVENTS.includes(frame.event)) return events;
      }
      // Visible in the test output, so a resumed stream is never silent.
      console.warn(`e2e: the event stream of ${jobId} ended after event ${events.at(-1)?.id ?? 0} without a terminal event; resuming`);
      await sleep(200);
    }
  } catch (e) {
    if (deadline.aborted)
      throw new Error(`no terminal event for ${jobId} within ${timeoutMs / 1000} s; saw ${events.map((e) => e.event).join(", ")}`);
    throw e;
  }
}

/** The SSE frames of one response body; ends when the server closes the stream (or drops it). */
async function* frames(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffer = "";
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch {
        return; // connection reset: the caller resumes
      }
      if (chunk.done) return;
      buffer += decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = parseFrame(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (frame) yield frame; // frames without an id, like the leading "retry:", carry no event
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

function parseFrame(text: string): SseEvent | null {
  let id: number | null = null;
  let event: string | null = null;
  const data: string[] = [];
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") id = Number(value);
    else if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (id === null || event === null || data.length === 0) return null;
  return { id, event, data: JSON.parse(data.join("\n")) as SseEvent["data"] };
}
