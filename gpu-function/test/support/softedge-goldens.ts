import { readFileSync } from "node:fs";
import { inflateSync } from "node:zlib";
import type { RgbImage } from "../../src/runtime/image.js";
import { photo } from "./inpaint-goldens.js";

/** What test/goldens/softedge/make_goldens.py wrote with infra/export's annotators reference (cv2, numpy, torch). */
export const SOFTEDGE_GOLDENS_DIR = "gpu-function/test/goldens/softedge";

export interface SoftedgeOutput {
  safe: boolean;
  /** zlib + base64 of the uint8 map at the detect size, before the last resize. */
  detectMap: string;
  width: number;
  height: number;
  /** zlib + base64 of the uint8 map controlnet_aux returns (one of its three equal channels). */
  edgeMap: string;
}

export interface SoftedgeCase {
  detector: "pidinet" | "hed";
  photo: "chelsea";
  /** [x, y, width, height] of the photo, or null for all of it. */
  crop: [number, number, number, number] | null;
  detectResolution: number;
  imageResolution: number;
  detectWidth: number;
  detectHeight: number;
  detectSizedSha256: string;
  /** The graph's rounding count at the detect size (infra/export float_error.count_roundings). */
  roundings: number;
  /** max(1, the largest |logit| the graph's final sigmoid sees on this input): what its error scales with. */
  logitScale: number;
  outputs: SoftedgeOutput[];
}

export const softedgeGoldens = JSON.parse(readFileSync(`${SOFTEDGE_GOLDENS_DIR}/softedge-goldens.json`, "utf8")) as {
  shapes: { height: number; width: number; resolution: number; out: [number, number, number] }[];
  rounding: { edge: string; uint8: string; safeUint8: string; pixels: string };
  cases: SoftedgeCase[];
};

export const packedBytes = (b64: string) => new Uint8Array(inflateSync(Buffer.from(b64, "base64")));

/** The case's input: the committed photo, cropped as the script cropped it. */
export async function casePhoto(c: SoftedgeCase): Promise<RgbImage> {
  const full = await photo(c.photo);
  if (!c.crop) return full;
  const [x, y, width, height] = c.crop;
  const data = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const start = ((y + row) * full.width + x) * 3;
    data.set(full.data.subarray(start, start + width * 3), row * width * 3);
  }
  return { width, height, data };
}
