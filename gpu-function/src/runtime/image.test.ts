import { readFileSync } from "node:fs";
import { crc32, deflateSync } from "node:zlib";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { decodeImage, encodeImage, ImageError, type RgbImage } from "./image.js";

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as ImageError,
  );

/** A PNG whose IHDR claims width x height, with only its first rows of (zero) data: a decompression-bomb header. */
function pngHeader(width: number, height: number): Uint8Array {
  const chunk = (type: string, body: Buffer) => {
    const typed = Buffer.concat([Buffer.from(type, "ascii"), body]);
    const out = Buffer.alloc(12 + body.length);
    out.writeUInt32BE(body.length, 0);
    typed.copy(out, 4);
    out.writeUInt32BE(crc32(typed), 8 + body.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.alloc(4 * (1 + 3 * width)))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** 32 x 16: left half red, right half blue. */
function halves(): RgbImage {
  const data = new Uint8Array(32 * 16 * 3);
  for (let i = 0; i < 32 * 16; i++) data.set(i % 32 < 16 ? [255, 0, 0] : [0, 0, 255], i * 3);
  return { width: 32, height: 16, data };
}

describe("decodeImage", () => {
  it("decodes a PNG to RGB HWC uint8", async () => {
    const image = await decodeImage(readFileSync("test/fixtures/images/astronaut.png"));
    expect([image.width, image.height, image.data.length]).toEqual([512, 512, 512 * 512 * 3]);
  });

  it("honours EXIF orientation (6: rotate 90 degrees clockwise), as a phone shows the photo", async () => {
    const { width, height, data } = halves();
    const jpeg = await sharp(data, { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const image = await decodeImage(jpeg);
    expect([image.width, image.height]).toEqual([16, 32]);
    // The left half (red) is now on top, the right half (blue) at the bottom.
    const at = (x: number, y: number) => Array.from(image.data.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3));
    expect(at(8, 4)[0]).toBeGreaterThan(200);
    expect(at(8, 4)[2]).toBeLessThan(60);
    expect(at(8, 28)[2]).toBeGreaterThan(200);
    expect(at(8, 28)[0]).toBeLessThan(60);
  });

  it("drops alpha instead of compositing it, as cv2.imread does", async () => {
    const rgba = await sharp(Buffer.from([10, 20, 30, 0]), { raw: { width: 1, height: 1, channels: 4 } })
      .png()
      .toBuffer();
    expect(Array.from((await decodeImage(rgba)).data)).toEqual([10, 20, 30]);
  });

  it("brings 16-bit and greyscale PNGs to 8-bit RGB", async () => {
    const png16 = await sharp(Buffer.from([255, 128, 1, 10, 0, 77]), { raw: { width: 2, height: 1, channels: 3 } })
      .toColourspace("rgb16")
      .png()
      .toBuffer();
    expect(Array.from((await decodeImage(png16)).data)).toEqual([255, 128, 1, 10, 0, 77]);
    const grey = await sharp(Buffer.from([7, 200]), { raw: { width: 2, height: 1, channels: 1 } })
      .png()
      .toBuffer();
    expect(Array.from((await decodeImage(grey)).data)).toEqual([7, 7, 7, 200, 200, 200]);
  });

  it("refuses a 17000 x 17000 PNG header (decompression bomb) before decoding, with image_too_large", async () => {
    const e = await refusal(decodeImage(pngHeader(17000, 17000)));
    expect(e).toBeInstanceOf(ImageError);
    expect(e?.code).toBe("image_too_large");
  });

  it("refuses tiny JPEG and WebP files whose headers claim a huge size, with image_too_large (the header check, not a failed decode)", async () => {
    const small = await sharp(Buffer.alloc(16 * 16 * 3, 128), { raw: { width: 16, height: 16, channels: 3 } });
    // A real 16 x 16 JPEG with its SOF0 frame size rewritten to 60000 x 60000 (3.6 gigapixels).
    const jpeg = Buffer.from(await small.clone().jpeg().toBuffer());
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    expect(sof).toBeGreaterThan(0);
    jpeg.writeUInt16BE(60000, sof + 5);
    jpeg.writeUInt16BE(60000, sof + 7);
    // A real lossless WebP (VP8L) with its 14-bit sizes rewritten to 16383 x 16383, WebP's largest.
    const vp8l = Buffer.from(await small.clone().webp({ lossless: true }).toBuffer());
    expect(vp8l.toString("ascii", 12, 16)).toBe("VP8L");
    vp8l.writeUInt32LE((0x3ffe | (0x3ffe << 14) | (vp8l.readUInt32LE(21) & 0xf0000000)) >>> 0, 21);
    // A real lossy WebP (VP8) with its key-frame sizes rewritten to 16383 x 16383.
    const vp8 = Buffer.from(await small.clone().webp({ quality: 80 }).toBuffer());
    expect(vp8.toString("ascii", 12, 16)).toBe("VP8 ");
    vp8.writeUInt16LE(16383, 26);
    vp8.writeUInt16LE(16383, 28);
    for (const [name, bytes] of [
      ["jpeg", jpeg],
      ["webp vp8l", vp8l],
      ["webp vp8", vp8],
    ] as const) {
      expect(bytes.length, name).toBeLessThan(2000);
      const e = await refusal(decodeImage(bytes));
      expect(e, name).toBeInstanceOf(ImageError);
      expect(e?.code, `${name}: ${e?.message}`).toBe("image_too_large");
    }
  });

  it("refuses images over the pixel or byte limit it is given", async () => {
    const png = readFileSync("test/fixtures/images/astronaut.png");
    expect((await refusal(decodeImage(png, { maxBytes: 1e9, maxPixels: 512 * 511 })))?.code).toBe("image_too_large");
    expect((await refusal(decodeImage(png, { maxBytes: 1000, maxPixels: 1e9 })))?.code).toBe("image_too_large");
  });

  it("refuses a GIF with unsupported_image_format", async () => {
    const gif = Buffer.from("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b", "hex");
    expect((await refusal(decodeImage(gif)))?.code).toBe("unsupported_image_format");
  });

  it("refuses garbage and truncated files with image_undecodable", async () => {
    expect((await refusal(decodeImage(new TextEncoder().encode("this is not an image at all"))))?.code).toBe("image_undecodable");
    const png = readFileSync("test/fixtures/images/astronaut.png");
    expect((await refusal(decodeImage(png.subarray(0, 5000))))?.code).toBe("image_undecodable");
  });
});

describe("encodeImage", () => {
  it("round-trips PNG and lossless WebP exactly", async () => {
    const image = halves();
    for (const [format, options] of [
      ["png", {}],
      ["webp", { lossless: true }],
    ] as const) {
      const back = await decodeImage(await encodeImage(image, format, options));
      expect(back.data, format).toEqual(image.data);
    }
  });

  it("encodes JPEG with the quality asked for", async () => {
    const image = await decodeImage(readFileSync("test/fixtures/images/chelsea.png"));
    const low = await encodeImage(image, "jpeg", { quality: 20 });
    const high = await encodeImage(image, "jpeg", { quality: 95 });
    expect(Array.from(low.subarray(0, 3))).toEqual([0xff, 0xd8, 0xff]);
    expect(low.length).toBeLessThan(high.length / 2);
  });
});
