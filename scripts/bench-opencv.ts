/**
 * `npm run bench:opencv`: OpenCV's own code compiled to WebAssembly (what the face preprocessing
 * runs) against the hand-written TypeScript ports of it that it replaced, taken from git at
 * PORTS_COMMIT: exactness on the cv2 goldens, then speed on a 12-megapixel photo.
 *   BENCH_RUNS (default 15) timed runs after one warm-up, medians reported.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import sharp from "sharp";

/** The last commit with the ports (gpu-function/src/preprocess/{resize-linear,warp-affine,cv-raster,cv-round}.ts). */
const PORTS_COMMIT = "bec0644";
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const GOLDENS = "gpu-function/test/goldens/faces/cv2-goldens.json";

type Image = { width: number; height: number; data: Uint8Array };
type Matrix = readonly [number, number, number, number, number, number];
interface Ports {
  resizeLinear(image: Image, width: number, height: number): Image;
  warpAffine(image: Image, m: Matrix, width: number, height: number, border: readonly [number, number, number]): Image;
  drawKeypoints(width: number, height: number, keypoints: readonly (readonly [number, number])[], style: unknown): Image;
}

async function loadPorts(dir: string): Promise<Ports> {
  for (const file of ["resize-linear", "warp-affine", "cv-raster", "cv-round", "draw-keypoints"]) {
    const source = execFileSync("git", ["show", `${PORTS_COMMIT}:gpu-function/src/preprocess/${file}.ts`], { encoding: "utf8" });
    writeFileSync(join(dir, `${file}.ts`), source);
  }
  const load = (file: string) => import(pathToFileURL(join(dir, `${file}.ts`)).href);
  const [resize, warp, draw] = await Promise.all([load("resize-linear"), load("warp-affine"), load("draw-keypoints")]);
  return { resizeLinear: resize.resizeLinear, warpAffine: warp.warpAffine, drawKeypoints: draw.drawKeypoints };
}

function median(run: () => unknown): number {
  run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(os.tmpdir(), "ecomid-ports-"));
  try {
    const ports = await loadPorts(dir);
    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    const wasm = {
      ...(await import("../gpu-function/src/preprocess/resize-linear.js")),
      ...(await import("../gpu-function/src/preprocess/warp-affine.js")),
      ...(await import("../gpu-function/src/preprocess/draw-keypoints.js")),
    };
    const loadMs = performance.now() - t0;
    const rssAdded = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    const { keypointStyle } = await import("../gpu-function/src/preprocess/keypoint-style.js");

    const goldens = JSON.parse(readFileSync(GOLDENS, "utf8")) as {
      resize: { width: number; height: number; outWidth: number; outHeight: number; src: string; dst: string }[];
      warp: { width: number; height: number; matrix: Matrix; border: [number, number, number]; src: string; dst: string }[];
    };
    const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, "base64"));
    const exact = (impl: Pick<Ports, "resizeLinear" | "warpAffine">) =>
      goldens.resize.filter((g) =>
        sameBytes(impl.resizeLinear({ width: g.width, height: g.height, data: bytes(g.src) }, g.outWidth, g.outHeight).data, bytes(g.dst)),
      ).length +
      goldens.warp.filter((g) =>
        sameBytes(impl.warpAffine({ width: g.width, height: g.height, data: bytes(g.src) }, g.matrix, 33, 29, g.border).data, bytes(g.dst)),
      ).length;
    const total = goldens.resize.length + goldens.warp.length;

    const { data, info } = await sharp("test/fixtures/images/astronaut.png")
      .resize(4000, 3000)
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const photo: Image = { width: info.width, height: info.height, data: new Uint8Array(data) };
    // A face about a sixth of the photo's width: the ArcFace and FFHQ crops' scale on a 12 MP portrait.
    const toCrop: Matrix = [0.17, 0.02, -500, -0.02, 0.17, -300];
    const keypoints = [
      [1700, 1200],
      [2300, 1200],
      [2000, 1550],
      [1750, 1900],
      [2250, 1900],
    ] as const;
    const style = keypointStyle(JSON.parse(readFileSync("bundles/tiny/manifest.json", "utf8")));
    const rows: [string, number, number][] = [
      [
        "resize 4000x3000 -> 640x480 (SCRFD letterbox)",
        median(() => ports.resizeLinear(photo, 640, 480)),
        median(() => wasm.resizeLinear(photo, 640, 480)),
      ],
      [
        "warpAffine 4000x3000 -> 512x512 (FFHQ crop)",
        median(() => ports.warpAffine(photo, toCrop, 512, 512, [135, 133, 132])),
        median(() => wasm.warpAffine(photo, toCrop, 512, 512, [135, 133, 132])),
      ],
      [
        "keypoint image 4000x3000 (draw_kps)",
        median(() => ports.drawKeypoints(4000, 3000, keypoints, style)),
        median(() => wasm.drawKeypoints(4000, 3000, keypoints, style)),
      ],
    ];
    const drawnAlike = sameBytes(
      ports.drawKeypoints(4000, 3000, keypoints, style).data,
      wasm.drawKeypoints(4000, 3000, keypoints, style).data,
    );

    const cpu =
      readFileSync("/proc/cpuinfo", "utf8")
        .split("\n")
        .find((l) => l.startsWith("model name"))
        ?.split(":")[1]
        ?.trim() ?? os.cpus()[0]?.model;
    console.log(`bench:opencv on ${cpu} (${os.cpus().length} cores), node ${process.version}, median of ${RUNS}`);
    console.log(`opencv.js: first load ${loadMs.toFixed(0)} ms, resident memory added ${rssAdded.toFixed(0)} MiB`);
    console.log(
      `cv2 goldens exact: ports ${exact(ports)} of ${total}, opencv.js ${exact(wasm)} of ${total}; 12 MP keypoint images identical: ${drawnAlike}`,
    );
    console.log("operation                                        ports ms   opencv.js ms   ports / opencv.js");
    for (const [name, port, cv] of rows)
      console.log(
        `${name.padEnd(48)} ${port.toFixed(1).padStart(8)}   ${cv.toFixed(1).padStart(12)}   ${(port / cv).toFixed(2).padStart(8)}x`,
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
