import sharp, { type Metadata, type SharpOptions } from "sharp";
import { API_LIMITS } from "@ecomid/shared/api";
import type { ErrorCode } from "@ecomid/shared/api";

/** The only module that imports sharp. Images inside the pipeline are plain RGB, HWC, uint8. */
export interface RgbImage {
  width: number;
  height: number;
  /** width * height * 3 bytes, row-major, RGB. */
  data: Uint8Array;
}

export type ImageErrorCode = Extract<ErrorCode, "image_undecodable" | "image_too_large" | "unsupported_image_format">;

/** A refused input image; `code` is the stable error code the job fails with. */
export class ImageError extends Error {
  override readonly name = "ImageError";
  constructor(
    readonly code: ImageErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface DecodeLimits {
  maxBytes: number;
  /** Decompression-bomb guard, checked on the header before any pixel is decoded. */
  maxPixels: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxBytes: API_LIMITS.maxImageBytes, maxPixels: API_LIMITS.maxImagePixels };

export type ImageFormat = "png" | "jpeg" | "webp";
const ACCEPTED: readonly string[] = ["png", "jpeg", "webp"] satisfies ImageFormat[];

/**
 * Decodes a JPEG, PNG or WebP to RGB with its EXIF orientation applied (as a phone shows it).
 * Alpha is dropped, not composited, as cv2.imread(IMREAD_COLOR) does in the reference.
 *
 * @example
 * const image = await decodeImage(await readFile("face.jpg"));
 */
export async function decodeImage(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Promise<RgbImage> {
  const options = await checkHeader(bytes, limits);
  try {
    const { data, info } = await sharp(bytes, options)
      .rotate()
      .removeAlpha()
      .toColourspace("srgb")
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new ImageError("image_undecodable", `decoded to ${info.channels} channels, expected 3`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    throw e instanceof ImageError ? e : refusal(e);
  }
}

/** The refusals every decode makes before decoding: byte size, format, a size in the header, the pixel budget. */
async function checkHeader(bytes: Uint8Array, limits: DecodeLimits): Promise<SharpOptions> {
  if (bytes.byteLength > limits.maxBytes)
    throw new ImageError("image_too_large", `the image is ${bytes.byteLength} bytes; at most ${limits.maxBytes} are accepted`);
  // sharp applies limitInputPixels to metadata() too, so a forged header never reaches a decoder.
  const options: SharpOptions = { limitInputPixels: limits.maxPixels, failOn: "error", pages: 1 };
  let meta: Metadata;
  try {
    meta = await sharp(bytes, options).metadata();
  } catch (e) {
    throw refusal(e);
  }
  if (!meta.format || !ACCEPTED.includes(meta.format)) {
    throw new ImageError(
      "unsupported_image_format",
      `the image is ${meta.format ?? "of an unknown format"}; JPEG, PNG and WebP are accepted`,
    );
  }
  if (!meta.width || !meta.height) throw new ImageError("image_undecodable", "the image header gives no size");
  if (meta.width * meta.height > limits.maxPixels) {
    throw new ImageError("image_too_large", `the image is ${meta.width}x${meta.height}; at most ${limits.maxPixels} pixels are accepted`);
  }
  return options;
}

/**
 * Decodes keeping the alpha channel where the file has one (a PNG's tRNS chunk counts, as Pillow reads it), for
 * mask_from "alpha": 3 channels (RGB, no alpha) or 4 (RGBA); gray files come back as RGB(A). Same limits and EXIF
 * orientation as decodeImage, so mask and image stay pixel for pixel aligned.
 */
export async function decodeImageKeepingAlpha(
  bytes: Uint8Array,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): Promise<{ width: number; height: number; channels: 3 | 4; data: Uint8Array }> {
  const options = await checkHeader(bytes, limits);
  try {
    const { data, info } = await sharp(bytes, options)
      .rotate()
      .toColourspace("srgb")
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 && info.channels !== 4) throw new ImageError("image_undecodable", `decoded to ${info.channels} channels`);
    return {
      width: info.width,
      height: info.height,
      channels: info.channels,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    };
  } catch (e) {
    throw e instanceof ImageError ? e : refusal(e);
  }
}

function refusal(e: unknown): ImageError {
  const message = (e as Error).message ?? String(e);
  if (/pixel limit/i.test(message)) return new ImageError("image_too_large", `the image has more pixels than accepted: ${message}`);
  // libvips recognises no format at all: not an image (a format it knows but we refuse, such as GIF, is caught by the format check).
  if (/unsupported image format/i.test(message))
    return new ImageError("image_undecodable", "the file is not a recognisable image; JPEG, PNG and WebP are accepted");
  return new ImageError("image_undecodable", `the image could not be decoded: ${message}`);
}

export interface EncodeOptions {
  /** 1..100 for JPEG and lossy WebP; ignored for PNG. */
  quality?: number;
  /** WebP only: lossless (the round trip is byte-identical). */
  lossless?: boolean;
}

/** Encodes RGB pixels. */
export async function encodeImage(image: RgbImage, format: ImageFormat, options: EncodeOptions = {}): Promise<Uint8Array> {
  if (image.data.length !== image.width * image.height * 3)
    throw new RangeError(`encodeImage: ${image.data.length} bytes cannot be ${image.width}x${image.height} RGB`);
  const pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
  const quality = options.quality;
  const encoded =
    format === "png"
      ? pipeline.png()
      : format === "jpeg"
        ? pipeline.jpeg(quality === undefined ? {} : { quality })
        : pipeline.webp({ ...(quality === undefined ? {} : { quality }), lossless: options.lossless ?? false });
  const out = await encoded.toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
