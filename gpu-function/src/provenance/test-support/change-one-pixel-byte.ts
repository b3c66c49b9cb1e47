import { crc32 } from "node:zlib";
import { byteAt } from "../bytes.js";

/**
 * Changes one byte of a file's compressed pixel data, as an edit after signing would, and leaves every container
 * structure intact (a PNG chunk's CRC is recomputed) so that the readers get as far as the hash binding. The byte is
 * the middle one of the first image-data run: PNG's first IDAT, JPEG's entropy-coded scan after SOS, WebP's VP8/VP8L.
 */
function pngIdat(bytes: Uint8Array, data: DataView): { start: number; length: number; chunkStart: number } {
  for (let offset = 8; offset + 12 <= bytes.length; offset += 12 + data.getUint32(offset)) {
    if (String.fromCharCode(...bytes.subarray(offset + 4, offset + 8)) === "IDAT") {
      return { start: offset + 8, length: data.getUint32(offset), chunkStart: offset };
    }
  }
  throw new Error("no IDAT");
}

function jpegScan(bytes: Uint8Array, data: DataView): { start: number; length: number } {
  for (let offset = 2; offset + 4 <= bytes.length; offset += 2 + data.getUint16(offset + 2)) {
    // SOS (FFDA): the entropy-coded data follows its header and runs to EOI (FFD9) at the end of a baseline file.
    if (bytes[offset + 1] === 0xda) {
      const start = offset + 2 + data.getUint16(offset + 2);
      return { start, length: bytes.length - 2 - start };
    }
  }
  throw new Error("no SOS");
}

function webpBitstream(bytes: Uint8Array, data: DataView): { start: number; length: number } {
  for (let offset = 12; offset + 8 <= bytes.length;) {
    const fourcc = String.fromCharCode(...bytes.subarray(offset, offset + 4));
    const size = data.getUint32(offset + 4, true);
    if (fourcc === "VP8 " || fourcc === "VP8L") return { start: offset + 8, length: size };
    offset += 8 + size + (size % 2);
  }
  throw new Error("no VP8/VP8L chunk");
}

export function changeOnePixelByte(file: Uint8Array, format: "png" | "jpeg" | "webp"): Uint8Array {
  const bytes = Uint8Array.from(file);
  const data = new DataView(bytes.buffer);
  if (format === "png") {
    const { start, length, chunkStart } = pngIdat(bytes, data);
    const middle = start + (length >> 1);
    bytes[middle] = byteAt(bytes, middle) ^ 0x01;
    data.setUint32(start + length, crc32(bytes.subarray(chunkStart + 4, start + length)));
    return bytes;
  }
  const { start, length } = format === "jpeg" ? jpegScan(bytes, data) : webpBitstream(bytes, data);
  let target = start + (length >> 1);
  // In a JPEG scan, FF is a marker prefix (or stuffed as FF00): change a byte that is neither FF nor next to one.
  while (format === "jpeg" && [byteAt(bytes, target), byteAt(bytes, target - 1), byteAt(bytes, target) ^ 0x01].includes(0xff)) target++;
  bytes[target] = byteAt(bytes, target) ^ 0x01;
  return bytes;
}
