import { ascii, byteAt, concatBytes, sameBytes, view } from "./bytes.js";

/**
 * Puts an XMP packet in a WebP as its "XMP " chunk, which only the extended format (VP8X) may carry, with the
 * VP8X XMP flag set (Google's WebP container specification,
 * https://developers.google.com/speed/webp/docs/riff_container, "Extended File Format"). A simple-format file
 * (a lone VP8 or VP8L chunk, as libwebp writes by default) gets a VP8X header whose canvas size comes from the
 * bitstream header. An "XMP " chunk already there is replaced. Image bytes are never re-encoded.
 */
const XMP_FLAG = 0x04;
const ALPHA_FLAG = 0x10;
const RIFF_HEADER_LENGTH = 12;

interface Chunk {
  fourcc: string;
  data: Uint8Array;
}

function readChunks(webp: Uint8Array): Chunk[] {
  if (!sameBytes(webp, 0, ascii("RIFF")) || !sameBytes(webp, 8, ascii("WEBP"))) throw new Error("not a WebP");
  const chunks: Chunk[] = [];
  let offset = RIFF_HEADER_LENGTH;
  while (offset + 8 <= webp.length) {
    const fourcc = String.fromCharCode(...webp.subarray(offset, offset + 4));
    const size = view(webp).getUint32(offset + 4, true);
    if (offset + 8 + size > webp.length) throw new Error("truncated WebP chunk");
    chunks.push({ fourcc, data: webp.subarray(offset + 8, offset + 8 + size) });
    // RIFF: a chunk of odd size is followed by one padding byte.
    offset += 8 + size + (size % 2);
  }
  return chunks;
}

function writeChunk({ fourcc, data }: Chunk): Uint8Array {
  const out = new Uint8Array(8 + data.length + (data.length % 2));
  out.set(ascii(fourcc), 0);
  view(out).setUint32(4, data.length, true);
  out.set(data, 8);
  return out;
}

/** Canvas size and alpha of a simple-format file, from its bitstream header. */
function simpleImageInfo(image: Chunk): { width: number; height: number; alpha: boolean } {
  const data = view(image.data);
  if (image.fourcc === "VP8 ") {
    // RFC 6386 §9.1: 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height (2 scale bits above each).
    return { width: data.getUint16(6, true) & 0x3fff, height: data.getUint16(8, true) & 0x3fff, alpha: false };
  }
  // WebP lossless bitstream spec §3.2: signature 0x2f, then width-1 (14 bits), height-1 (14 bits), alpha_is_used (1 bit).
  const bits = data.getUint32(1, true);
  return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, alpha: ((bits >>> 28) & 1) === 1 };
}

function vp8xChunk(flags: number, width: number, height: number): Chunk {
  const data = new Uint8Array(10);
  data[0] = flags;
  // Canvas width and height minus one, 24-bit little-endian each, after 3 reserved bytes.
  for (let byte = 0; byte < 3; byte++) {
    data[4 + byte] = ((width - 1) >>> (8 * byte)) & 0xff;
    data[7 + byte] = ((height - 1) >>> (8 * byte)) & 0xff;
  }
  return { fourcc: "VP8X", data };
}

export function embedXmpInWebp(webp: Uint8Array, xmp: string): Uint8Array {
  let chunks = readChunks(webp).filter((chunk) => chunk.fourcc !== "XMP ");
  const first = chunks[0];
  if (first === undefined) throw new Error("WebP without chunks");
  if (first.fourcc === "VP8X") {
    const data = Uint8Array.from(first.data);
    data[0] = byteAt(data, 0) | XMP_FLAG;
    chunks[0] = { fourcc: "VP8X", data };
  } else if (first.fourcc === "VP8 " || first.fourcc === "VP8L") {
    const { width, height, alpha } = simpleImageInfo(first);
    chunks = [vp8xChunk(XMP_FLAG | (alpha ? ALPHA_FLAG : 0), width, height), ...chunks];
  } else {
    throw new Error(`unexpected first WebP chunk ${first.fourcc}`);
  }
  // The specification orders metadata after the image data: XMP last.
  chunks.push({ fourcc: "XMP ", data: new TextEncoder().encode(xmp) });
  const body = concatBytes([ascii("WEBP"), ...chunks.map(writeChunk)]);
  const header = new Uint8Array(8);
  header.set(ascii("RIFF"), 0);
  view(header).setUint32(4, body.length, true);
  return concatBytes([header, body]);
}
