import { describe, expect, it } from "vitest";
import { parseSse, type SseMessage } from "./sse.js";

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
}

async function collect(chunks: string[]): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for await (const m of parseSse(streamOf(chunks))) out.push(m);
  return out;
}

describe("parseSse", () => {
  it("parses id, event and data fields", async () => {
    expect(await collect(['id: 1\nevent: job.queued\ndata: {"a":1}\n\n'])).toEqual([
      { id: "1", event: "job.queued", data: '{"a":1}', retry: null },
    ]);
  });

  it("reassembles frames split anywhere, including inside a multi-byte character and a CRLF", async () => {
    const text = "id: 7\r\nevent: x\r\ndata: héllo\r\n\r\n";
    const bytes = new TextEncoder().encode(text);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const b of bytes) c.enqueue(new Uint8Array([b]));
        c.close();
      },
    });
    const out: SseMessage[] = [];
    for await (const m of parseSse(stream)) out.push(m);
    expect(out).toEqual([{ id: "7", event: "x", data: "héllo", retry: null }]);
  });

  it("joins multi-line data, skips comments, and reads retry", async () => {
    const out = await collect([": keep-alive\n\nretry: 2000\n\n", "data: a\ndata: b\n\n"]);
    expect(out).toEqual([
      { id: null, event: "message", data: "", retry: 2000 },
      { id: null, event: "message", data: "a\nb", retry: null },
    ]);
  });

  it("handles bare CR line endings and drops an unterminated last block", async () => {
    expect(await collect(["data: one\r\rdata: cut off"])).toEqual([{ id: null, event: "message", data: "one", retry: null }]);
  });
});
