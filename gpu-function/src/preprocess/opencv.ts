import { createRequire } from "node:module";

/**
 * OpenCV itself, compiled to WebAssembly (@techstark/opencv-js 4.12), for the image operations the
 * reference runs through cv2: the same code gives the same pixels (checked against cv2 4.13 goldens
 * in opencv-parity.test.ts), and on a 12 MP photo it was faster than hand-written ports of it
 * (BENCHMARKS.md, "OpenCV: WebAssembly or ports"). Only the calls this project makes are typed.
 */
export interface Mat {
  /** A view on WebAssembly memory: taken again after any allocation, which may have moved it. */
  readonly data: Uint8Array;
  delete(): void;
}
interface Size {
  width: number;
  height: number;
}
interface Point {
  x: number;
  y: number;
}
type Scalar = number[];
interface PointVector {
  size(): number;
  get(i: number): Point;
  delete(): void;
}
interface OpenCv {
  Mat: { new (): Mat; new (rows: number, cols: number, type: number): Mat; zeros(rows: number, cols: number, type: number): Mat };
  Size: new (width: number, height: number) => Size;
  Point: new (x: number, y: number) => Point;
  Scalar: new (...values: number[]) => Scalar;
  PointVector: new () => PointVector;
  matFromArray(rows: number, cols: number, type: number, values: ArrayLike<number>): Mat;
  resize(src: Mat, dst: Mat, size: Size, fx: number, fy: number, interpolation: number): void;
  getStructuringElement(shape: number, size: Size): Mat;
  morphologyDefaultBorderValue(): Scalar;
  dilate(src: Mat, dst: Mat, kernel: Mat, anchor: Point, iterations: number, borderType: number, borderValue: Scalar): void;
  erode(src: Mat, dst: Mat, kernel: Mat, anchor: Point, iterations: number, borderType: number, borderValue: Scalar): void;
  GaussianBlur(src: Mat, dst: Mat, ksize: Size, sigmaX: number, sigmaY: number, borderType: number): void;
  warpAffine(src: Mat, dst: Mat, m: Mat, size: Size, flags: number, borderMode: number, borderValue: Scalar): void;
  ellipse2Poly(center: Point, axes: Size, angle: number, arcStart: number, arcEnd: number, delta: number, points: PointVector): void;
  fillConvexPoly(img: Mat, points: Mat, color: Scalar): void;
  circle(img: Mat, center: Point, radius: number, color: Scalar, thickness: number): void;
  CV_8UC1: number;
  CV_8UC3: number;
  CV_32SC2: number;
  CV_64F: number;
  INTER_NEAREST: number;
  INTER_LINEAR: number;
  INTER_CUBIC: number;
  INTER_AREA: number;
  INTER_LANCZOS4: number;
  MORPH_RECT: number;
  MORPH_ELLIPSE: number;
  BORDER_CONSTANT: number;
  BORDER_DEFAULT: number;
  onRuntimeInitialized?: () => void;
}

/**
 * Loaded with require, not import: the module object has a `then` that resolves to itself, so
 * anything awaiting it (an ESM namespace of it, or a loader's interop) never settles. Its `then` is
 * removed for the same reason, and the runtime is ready once onRuntimeInitialized has fired.
 */
const loaded = createRequire(import.meta.url)("@techstark/opencv-js") as OpenCv & { then?: unknown };
delete loaded.then;
if (typeof (loaded as Partial<OpenCv>).Mat !== "function") {
  await new Promise<void>((resolve) => {
    loaded.onRuntimeInitialized = () => resolve();
  });
}
export const cv: OpenCv = loaded;

/** Runs `use` with Mats that are freed afterwards whatever happens: WebAssembly memory is not garbage-collected. */
export function withMats<T>(mats: Mat[], use: () => T): T {
  try {
    return use();
  } finally {
    for (const m of mats) m.delete();
  }
}

/** An 8-bit three-channel Mat holding a copy of the image's pixels. */
export function matFromRgb(image: { width: number; height: number; data: Uint8Array }): Mat {
  const m = new cv.Mat(image.height, image.width, cv.CV_8UC3);
  m.data.set(image.data);
  return m;
}

/** An 8-bit one-channel Mat holding a copy of the plane. */
export function matFromGray(plane: { width: number; height: number; data: Uint8Array }): Mat {
  const m = new cv.Mat(plane.height, plane.width, cv.CV_8UC1);
  m.data.set(plane.data);
  return m;
}
