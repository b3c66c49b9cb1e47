import { API_LIMITS } from "@ecomid/shared/api";
import { AppError } from "../errors.js";

export interface ImageInfo {
  contentType: "image/jpeg" | "image/png" | "image/webp";
  width: number;
  height: number;
}

/**
 * Reads the format and pixel size from an image's header without decoding it,
 * so oversized images (decompression bombs) are refused before any GPU sees them.
 */
export function sniffImage(bytes: Uint8Array, maxPixels: number = API_LIMITS.maxImagePixels): ImageInfo {
  const info = readHeader(bytes);
  if (!info) throw new AppError("unsupported_image_format", "the file is not a JPEG, PNG or WebP image");
  if (info.width < 1 || info.height < 1) throw new AppError("image_undecodable", "the image header gives no size");
  if (info.width * info.height > maxPixels) {
    throw new AppError("image_too_large", `the image is ${info.width}x${info.height}; at most ${maxPixels} pixels are accepted`);
  }
  return info;
}

function readHeader(b: Uint8Array): ImageInfo | null {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length >= 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
    if (String.fromCharCode(...b.subarray(12, 16)) !== "IHDR") throw new AppError("image_undecodable", "PNG without an IHDR chunk");
    return { contentType: "image/png", width: dv.getUint32(16), height: dv.getUint32(20) };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) return readJpeg(b, dv);
  if (b.length >= 30 && ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP") return readWebp(b, dv);
  return null;
}

function ascii(b: Uint8Array, from: number, to: number) {
  return String.fromCharCode(...b.subarray(from, to));
}

function readJpeg(b: Uint8Array, dv: DataView): ImageInfo {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) throw new AppError("image_undecodable", "corrupt JPEG marker stream");
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    const len = dv.getUint16(i + 2);
    // SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { contentType: "image/jpeg", height: dv.getUint16(i + 5), width: dv.getUint16(i + 7) };
    }
    i += 2 + len;
  }
  throw new AppError("image_undecodable", "JPEG without a frame header");
}

function readWebp(b: Uint8Array, dv: DataView): ImageInfo {
  const chunk = ascii(b, 12, 16);
  if (chunk === "VP8 ") {
    // A key frame starts with the start code 9d 01 2a; without it the size bytes mean nothing.
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a)
      throw new AppError("image_undecodable", "WebP VP8 chunk without a key-frame start code");
    return { contentType: "image/webp", width: dv.getUint16(26, true) & 0x3fff, height: dv.getUint16(28, true) & 0x3fff };
  }
  if (chunk === "VP8L") {
    if (b[20] !== 0x2f) throw new AppError("image_undecodable", "WebP VP8L chunk without its signature byte");
    const bits = dv.getUint32(21, true);
    return { contentType: "image/webp", width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  if (chunk === "VP8X") {
    const w = 1 + (b[24]! | (b[25]! << 8) | (b[26]! << 16));
    const h = 1 + (b[27]! | (b[28]! << 8) | (b[29]! << 16));
    return { contentType: "image/webp", width: w, height: h };
  }
  throw new AppError("image_undecodable", "WebP without a VP8, VP8L or VP8X chunk");
}

/**
 * Whether an image carries transparency, from its header: a PNG of colour type 4 or 6
 * (grey or RGB with alpha), or of another type with a tRNS chunk before its pixel data
 * (PNG spec 11.3.2.1: decoders such as PIL's turn it into alpha); a WebP whose VP8X flags
 * set the alpha bit or whose VP8L header sets alpha_is_used (RFC 9649, 2.7 and 3.2); never
 * a JPEG or a lossy VP8 WebP without VP8X. "unknown" when the bytes end before the answer.
 */
export function alphaOf(b: Uint8Array): "alpha" | "opaque" | "unknown" {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const info = readHeader(b);
  if (!info) return "unknown";
  if (info.contentType === "image/jpeg") return "opaque";
  if (info.contentType === "image/webp") {
    const chunk = ascii(b, 12, 16);
    if (chunk === "VP8X") return (b[20] ?? 0) & 0x10 ? "alpha" : "opaque";
    if (chunk === "VP8L") return (dv.getUint32(21, true) >>> 28) & 1 ? "alpha" : "opaque";
    return "opaque";
  }
  const colourType = b[25];
  if (colourType === undefined) return "unknown";
  if (colourType === 4 || colourType === 6) return "alpha";
  for (let at = 8; at + 8 <= b.length; at += 12 + dv.getUint32(at)) {
    const type = ascii(b, at + 4, at + 8);
    if (type === "tRNS") return "alpha";
    if (type === "IDAT" || type === "IEND") return "opaque";
  }
  return "unknown";
}
