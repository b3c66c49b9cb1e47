import { ascii, byteAt, concatBytes, sameBytes, view } from "./bytes.js";

/**
 * Puts an XMP packet in a JPEG as an APP1 segment whose payload starts with the XMP namespace and a NUL
 * (XMP Specification Part 3 §1.1.3, "JPEG"), after SOI and a JFIF APP0 (JFIF 1.02: APP0 must follow SOI).
 * An XMP APP1 already there is replaced.
 */
const SOI = 0xd8;
const APP0 = 0xe0;
const APP1 = 0xe1;
const XMP_HEADER = ascii("http://ns.adobe.com/xap/1.0/\0");
/** A segment length is a 16-bit count that includes its own 2 bytes. */
const MAX_SEGMENT_PAYLOAD = 0xffff - 2;

function segment(marker: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  out[0] = 0xff;
  out[1] = marker;
  view(out).setUint16(2, payload.length + 2);
  out.set(payload, 4);
  return out;
}

export function embedXmpInJpeg(jpeg: Uint8Array, xmp: string): Uint8Array {
  if (jpeg[0] !== 0xff || jpeg[1] !== SOI) throw new Error("not a JPEG");
  const payload = concatBytes([XMP_HEADER, new TextEncoder().encode(xmp)]);
  // Extended XMP (split over several segments) is not needed: the packet is a few hundred bytes plus an optional prompt.
  if (payload.length > MAX_SEGMENT_PAYLOAD) throw new Error("XMP packet too large for one JPEG APP1 segment");

  const kept: Uint8Array[] = [];
  let offset = 2;
  let insertAt = 0;
  // Walk the marker segments before the first non-APPn marker (DQT, SOF, ...): only APPn segments are touched.
  while (offset + 4 <= jpeg.length && jpeg[offset] === 0xff && byteAt(jpeg, offset + 1) >= APP0 && byteAt(jpeg, offset + 1) <= 0xef) {
    const marker = byteAt(jpeg, offset + 1);
    const end = offset + 2 + view(jpeg).getUint16(offset + 2);
    const isXmp = marker === APP1 && sameBytes(jpeg, offset + 4, XMP_HEADER);
    if (!isXmp) kept.push(jpeg.subarray(offset, end));
    if (marker === APP0 && kept.length === 1) insertAt = 1;
    offset = end;
  }
  kept.splice(insertAt, 0, segment(APP1, payload));
  return concatBytes([jpeg.subarray(0, 2), ...kept, jpeg.subarray(offset)]);
}
