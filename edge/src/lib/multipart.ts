import { AppError } from "../errors.js";
import { parseJsonBytes } from "./parse.js";

/** What a job's multipart body may hold, and where the JSON names its file parts. */
export interface JobFormLimits {
  maxBytes: number;
  maxJsonBytes: number;
  maxFileBytes: number;
  /** Every part in all: the `request` part and the files it names. */
  maxParts: number;
  /** The names of the file parts `request` refers to; any other part is refused. */
  fileNames: (request: unknown) => Set<string>;
}

export interface JobForm {
  request: unknown;
  files: Map<string, Uint8Array>;
}

const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");
const HEADERS_END = encoder.encode("\r\n\r\n");
const MAX_HEADER_BYTES = 8 * 1024;

/**
 * Reads a job's multipart/form-data body as it streams, holding each file once. The
 * `request` part must come first, so every later part is judged by its headers alone:
 * a part the request does not name, a second part of one name, a text part where a file
 * belongs, a part or a body over its limit are refused before their bytes are read
 * (the rest of the stream is cancelled). The old way (the whole body, then FormData,
 * then a copy of each part) held about three times the body in memory.
 */
export async function readJobForm(request: Request, limits: JobFormLimits): Promise<JobForm> {
  const boundary = boundaryOf(request.headers.get("content-type") ?? "");
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limits.maxBytes) {
    throw new AppError("payload_too_large", `the body is ${declared} bytes; at most ${limits.maxBytes} are accepted`);
  }
  if (!request.body) throw new AppError("invalid_multipart", "the multipart body is empty");
  const reader = request.body.getReader();
  try {
    return await new FormReader(reader, boundary, limits, declared === null ? null : Number(declared)).read();
  } finally {
    // Whatever is left (an epilogue, or everything after a refused part) is never read.
    await reader.cancel().catch(() => undefined);
  }
}

function boundaryOf(contentType: string): Uint8Array {
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw new AppError("invalid_multipart", "the multipart Content-Type has no boundary");
  return encoder.encode(`\r\n--${boundary}`);
}

interface PartHeaders {
  name: string;
  isFile: boolean;
}

class FormReader {
  /** Bytes read but not yet given to a part: at most a chunk, or less than a delimiter in a part's body. */
  private pending: Uint8Array;
  private total = 0;
  private ended = false;
  private parts = 0;
  private requestBody: unknown = undefined;
  private wanted = new Set<string>();
  private readonly files = new Map<string, Uint8Array>();

  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    /** CRLF "--" boundary: what ends every part. */
    private readonly delimiter: Uint8Array,
    private readonly limits: JobFormLimits,
    /** The Content-Length, when sent: it bounds how large the part being read can still be. */
    private readonly declaredBytes: number | null,
  ) {
    // The body starts with the first boundary line; a virtual CRLF lets it match the delimiter.
    this.pending = CRLF;
  }

  async read(): Promise<JobForm> {
    await this.collect(this.delimiter, Infinity, () => truncated(), null); // the preamble
    for (;;) {
      const after = await this.take(2);
      if (after[0] === 0x2d && after[1] === 0x2d) break; // "--": the closing boundary
      if (after[0] !== CRLF[0] || after[1] !== CRLF[1])
        throw new AppError("invalid_multipart", "the multipart body is malformed after a boundary");
      const headers = parseHeaders(
        await this.takeUntil(HEADERS_END, MAX_HEADER_BYTES, () => new AppError("invalid_multipart", "a part's headers are too long")),
      );
      const { maxBytes, tooBig } = this.admit(headers);
      const body = await this.takeUntil(this.delimiter, maxBytes, tooBig);
      if (headers.name === "request") {
        this.requestBody = parseJsonBytes(body, 'the "request" part');
        this.wanted = this.limits.fileNames(this.requestBody);
      } else {
        this.files.set(headers.name, body);
      }
    }
    if (this.requestBody === undefined)
      throw new AppError("invalid_multipart", 'the multipart body needs a text part named "request" holding the job JSON');
    return { request: this.requestBody, files: this.files };
  }

  /** Decides on a part by its headers, before any of its body is read; returns its size limit. */
  private admit(h: PartHeaders): { maxBytes: number; tooBig: () => AppError } {
    if (++this.parts > this.limits.maxParts) throw new AppError("invalid_multipart", `a job takes at most ${this.limits.maxParts} parts`);
    if (this.parts === 1) {
      if (h.name !== "request" || h.isFile)
        throw new AppError("invalid_multipart", 'the first part must be the text part named "request" (the job JSON), before any file');
      return {
        maxBytes: this.limits.maxJsonBytes,
        tooBig: () => new AppError("payload_too_large", `the "request" part is larger than ${this.limits.maxJsonBytes} bytes`),
      };
    }
    if (h.name === "request") throw new AppError("invalid_multipart", 'there is more than one "request" part');
    if (!this.wanted.has(h.name))
      throw new AppError("invalid_multipart", `part "${h.name}" is not named by the request (reference it as {"file": "${h.name}"})`);
    if (this.files.has(h.name)) throw new AppError("invalid_multipart", `there is more than one part named "${h.name}"`);
    if (!h.isFile) throw new AppError("invalid_multipart", `part "${h.name}" must be a file`);
    return {
      maxBytes: this.limits.maxFileBytes,
      tooBig: () => new AppError("image_too_large", `part "${h.name}" is larger than ${this.limits.maxFileBytes} bytes`),
    };
  }

  /** The next `n` bytes. */
  private async take(n: number): Promise<Uint8Array> {
    while (this.pending.byteLength < n) if (!(await this.more())) throw truncated();
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    return out;
  }

  /** The bytes up to `marker` (which is consumed), refused once they pass `maxBytes`. */
  private async takeUntil(marker: Uint8Array, maxBytes: number, tooBig: () => AppError): Promise<Uint8Array> {
    // No part can be larger than what the Content-Length leaves of the body.
    const left = this.declaredBytes === null ? null : this.declaredBytes - (this.total - this.pending.byteLength);
    const sink = new PartBuffer(Math.min(maxBytes, left ?? maxBytes), left !== null);
    await this.collect(marker, maxBytes, tooBig, sink);
    return sink.bytes();
  }

  /**
   * Moves bytes into `into` until `marker`. A chunk is copied once, into the part's
   * buffer, and a marker split across two chunks is found in a small bridge of the
   * previous chunk's last bytes and the next chunk's first ones.
   */
  private async collect(marker: Uint8Array, maxBytes: number, tooBig: () => AppError, into: PartBuffer | null): Promise<number> {
    let size = 0;
    const keep = (bytes: Uint8Array) => {
      if (!bytes.byteLength) return;
      size += bytes.byteLength;
      if (size > maxBytes) throw tooBig();
      into?.append(bytes);
    };
    for (;;) {
      const at = indexOf(this.pending, marker);
      if (at >= 0) {
        keep(this.pending.subarray(0, at));
        this.pending = this.pending.subarray(at + marker.byteLength);
        return size;
      }
      // What could still be the start of a marker stays back; the rest belongs to the part.
      const safe = Math.max(0, this.pending.byteLength - (marker.byteLength - 1));
      keep(this.pending.subarray(0, safe));
      const tail = this.pending.subarray(safe);
      const chunk = await this.next();
      if (!chunk) throw truncated();
      if (chunk.byteLength < marker.byteLength) {
        this.pending = join(tail, chunk); // a tiny chunk: copying it is cheap
        continue;
      }
      const bridge = join(tail, chunk.subarray(0, marker.byteLength - 1));
      const split = indexOf(bridge, marker);
      if (split >= 0 && split < tail.byteLength) {
        keep(tail.subarray(0, split));
        this.pending = chunk.subarray(split + marker.byteLength - tail.byteLength);
        return size;
      }
      keep(tail);
      this.pending = chunk;
    }
  }

  /** Reads one more chunk onto what is pending (copying only the small pending rest); false at the end of the stream. */
  private async more(): Promise<boolean> {
    const chunk = await this.next();
    if (!chunk) return false;
    this.pending = this.pending.byteLength ? join(this.pending, chunk) : chunk;
    return true;
  }

  /** The next chunk of the body, counted against its limit; null at its end. */
  private async next(): Promise<Uint8Array | null> {
    if (this.ended) return null;
    const { done, value } = await this.reader.read();
    if (done) {
      this.ended = true;
      return null;
    }
    this.total += value.byteLength;
    if (this.total > this.limits.maxBytes) throw new AppError("payload_too_large", `the body is larger than ${this.limits.maxBytes} bytes`);
    return value;
  }
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

/**
 * One part's bytes, copied into a single buffer as chunks arrive, so a chunk is garbage
 * as soon as it is read and the part is never held twice. With a Content-Length the
 * buffer is sized once (what is left of the body, at most the part's limit); without
 * one it doubles from 64 KiB.
 */
class PartBuffer {
  private buffer: Uint8Array;
  private size = 0;

  constructor(capacity: number, exact: boolean) {
    this.buffer = new Uint8Array(exact ? capacity : Math.min(capacity, 64 * 1024));
  }

  append(bytes: Uint8Array): void {
    if (this.size + bytes.byteLength > this.buffer.byteLength) {
      // Only without a Content-Length (or one that lied): grow.
      const grown = new Uint8Array(Math.max(this.size + bytes.byteLength, this.buffer.byteLength * 2));
      grown.set(this.buffer.subarray(0, this.size));
      this.buffer = grown;
    }
    this.buffer.set(bytes, this.size);
    this.size += bytes.byteLength;
  }

  /** The part; a buffer mostly unused (a small part early in a large body) is given back by copying the part out. */
  bytes(): Uint8Array {
    if (this.size * 2 < this.buffer.byteLength && this.buffer.byteLength > 64 * 1024) return this.buffer.slice(0, this.size);
    return this.buffer.subarray(0, this.size);
  }
}

const truncated = () => new AppError("invalid_multipart", "the multipart body ended before its closing boundary");

function parseHeaders(raw: Uint8Array): PartHeaders {
  const text = new TextDecoder().decode(raw);
  const disposition = text.split("\r\n").find((line) => /^content-disposition\s*:/i.test(line));
  const name = disposition ? /;\s*name="([^"]*)"/i.exec(disposition)?.[1] : undefined;
  if (!disposition || !/:\s*form-data\b/i.test(disposition) || !name) {
    throw new AppError("invalid_multipart", "every part needs a Content-Disposition: form-data header with a name");
  }
  return { name, isFile: /;\s*filename\*?=/i.test(disposition) };
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  const first = needle[0]!;
  const last = haystack.byteLength - needle.byteLength;
  for (let i = haystack.indexOf(first); i !== -1 && i <= last; i = haystack.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.byteLength && haystack[i + j] === needle[j]) j++;
    if (j === needle.byteLength) return i;
  }
  return -1;
}
