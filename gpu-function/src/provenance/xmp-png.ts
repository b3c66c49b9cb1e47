import { crc32 } from "node:zlib";
import { ascii, concatBytes, sameBytes, view } from "./bytes.js";

/**
 * Puts an XMP packet in a PNG as the iTXt chunk with keyword "XML:com.adobe.xmp", uncompressed, right after IHDR
 * (XMP Specification Part 3 §1.1.5, "PNG"). sharp's withXmp writes a zTXt chunk instead, which XMP readers
 * do not look for, hence this writer. An XMP chunk already there is replaced.
 */
const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
const XMP_KEYWORD = "XML:com.adobe.xmp";

function chunk(type: string, data: Uint8Array): Uint8Array {
  const typeAndData = concatBytes([ascii(type), data]);
  const out = new Uint8Array(12 + data.length);
  view(out).setUint32(0, data.length);
  out.set(typeAndData, 4);
  // PNG §5.3: the CRC covers the chunk type and data, not the length.
  view(out).setUint32(8 + data.length, crc32(typeAndData));
  return out;
}

function isXmpChunk(type: string, data: Uint8Array): boolean {
  return type === "iTXt" && sameBytes(data, 0, ascii(`${XMP_KEYWORD}\0`));
}

export function embedXmpInPng(png: Uint8Array, xmp: string): Uint8Array {
  if (!sameBytes(png, 0, PNG_SIGNATURE)) throw new Error("not a PNG");
  // iTXt data: keyword NUL, compression flag 0, compression method 0, empty language tag NUL, empty translated keyword NUL, UTF-8 text.
  const itxt = chunk("iTXt", concatBytes([ascii(`${XMP_KEYWORD}\0`), Uint8Array.of(0, 0, 0, 0), new TextEncoder().encode(xmp)]));
  const parts: Uint8Array[] = [PNG_SIGNATURE];
  let offset = PNG_SIGNATURE.length;
  while (offset + 12 <= png.length) {
    const length = view(png).getUint32(offset);
    const type = String.fromCharCode(...png.subarray(offset + 4, offset + 8));
    const end = offset + 12 + length;
    if (end > png.length) throw new Error("truncated PNG chunk");
    if (!isXmpChunk(type, png.subarray(offset + 8, offset + 8 + length))) parts.push(png.subarray(offset, end));
    if (type === "IHDR") parts.push(itxt);
    offset = end;
  }
  if (parts.length < 3) throw new Error("PNG without IHDR");
  return concatBytes(parts);
}
