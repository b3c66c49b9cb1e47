import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { decodeImage, type RgbImage } from "../../src/runtime/image.js";

/** What test/goldens/inpaint/make_goldens.py wrote with Pillow, cv2 4.13 and numpy (the reference's libraries). */
export const inpaintGoldens = JSON.parse(readFileSync("gpu-function/test/goldens/inpaint/inpaint-goldens.json", "utf8")) as {
  small: {
    width: number;
    height: number;
    rgb: string;
    mask: string;
    generated: string;
    luma: string;
    grow: { px: number; mask: string }[];
    feather: { px: number; weights: string; kept: string }[];
    condition: string;
    resize: { outWidth: number; outHeight: number; area: string; cubic: string; nearest: string; softedge: string }[];
  };
  photo: Record<
    "mask" | "grown6" | "feather8" | "kept" | "condition" | "astronautArea320" | "maskNearest576x384" | "softedge640x448",
    string
  > & { chelseaCrop: { x: number; y: number; width: number; height: number; outWidth: number; outHeight: number; cubic: string } };
};

export const goldenBytes = (b64: string) => new Uint8Array(Buffer.from(b64, "base64"));

export function goldenFloats(b64: string): Float32Array {
  const b = Buffer.from(b64, "base64");
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** SHA-256 of the raw bytes, as the script hashes numpy's (uint8 HWC or float32 little-endian). */
export const sha256 = (a: Uint8Array | Float32Array) =>
  createHash("sha256")
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest("hex");

/** How many elements differ: 0 is parity, and a failure says how far off it is. */
export function differing(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`lengths ${a.length} and ${b.length}`);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) n++;
  return n;
}

/** The largest difference between two byte arrays, in levels. */
export function maxLevelDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`lengths ${a.length} and ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
}

export const smallImage = (b64: string): RgbImage => ({
  width: inpaintGoldens.small.width,
  height: inpaintGoldens.small.height,
  data: goldenBytes(b64),
});
export const smallGray = (b64: string) => ({
  width: inpaintGoldens.small.width,
  height: inpaintGoldens.small.height,
  data: goldenBytes(b64),
});

/** One of the committed sample photos (test/fixtures/images, scikit-image's sample data). */
export const photo = (name: "astronaut" | "coffee" | "chelsea") => decodeImage(readFileSync(`test/fixtures/images/${name}.png`));
