/** One Server-Sent Event as the HTML spec's parser dispatches it. */
export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
  /** A `retry:` field seen in this block, in milliseconds. */
  retry: number | null;
}

/**
 * Parses a text/event-stream body (WHATWG HTML, "event stream interpretation").
 * Written by hand because EventSource cannot send an Authorization header.
 * Lines end with CRLF, LF or CR; a blank line dispatches; `:` lines are comments.
 * A block with only `retry:` is yielded with empty data so callers see the delay.
 */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = "";
  let block = emptyBlock();
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      // A trailing CR may be the first half of CRLF: keep it until more arrives.
      for (let end = nextLineEnd(buffer, done); end !== -1; end = nextLineEnd(buffer, done)) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(buffer[end] === "\r" && buffer[end + 1] === "\n" ? end + 2 : end + 1);
        if (line === "") {
          const message = finishBlock(block);
          if (message) yield message;
          block = emptyBlock();
        } else {
          applyLine(block, line);
        }
      }
      // An unterminated last block is dropped, as the spec says.
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}

interface Block {
  id: string | null;
  event: string;
  data: string[];
  retry: number | null;
}

const emptyBlock = (): Block => ({ id: null, event: "", data: [], retry: null });

function nextLineEnd(buffer: string, done: boolean): number {
  for (let i = 0; i < buffer.length; i++) {
    const ch = buffer[i];
    if (ch === "\n") return i;
    if (ch === "\r") return i + 1 < buffer.length || done ? i : -1;
  }
  return -1;
}

function applyLine(block: Block, line: string): void {
  if (line.startsWith(":")) return;
  const colon = line.indexOf(":");
  const field = colon === -1 ? line : line.slice(0, colon);
  let value = colon === -1 ? "" : line.slice(colon + 1);
  if (value.startsWith(" ")) value = value.slice(1);
  if (field === "data") block.data.push(value);
  else if (field === "event") block.event = value;
  else if (field === "id" && !value.includes("\0")) block.id = value;
  else if (field === "retry" && /^\d+$/.test(value)) block.retry = Number(value);
}

function finishBlock(block: Block): SseMessage | null {
  if (block.data.length === 0 && block.retry === null && block.id === null) return null;
  return { id: block.id, event: block.event || "message", data: block.data.join("\n"), retry: block.retry };
}
