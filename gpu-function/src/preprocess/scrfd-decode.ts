import { nms, type Box } from "./nms.js";
import type { Point } from "./similarity-transform.js";

/** One detected face in source pixels. Keypoints: left eye, right eye, nose, left and right mouth corner. */
export interface Face {
  box: Box;
  keypoints: Point[];
}

export interface ScrfdOutputs {
  /** Per stride, in the order of `strides`: [anchors, 1] probabilities, [anchors, 4] distances, [anchors, 10] offsets. */
  scores: Float32Array[];
  boxes: Float32Array[];
  keypoints: Float32Array[];
}

export interface ScrfdDecodeOptions {
  size: number;
  scale: number;
  strides: readonly number[];
  anchorsPerCell: number;
  scoreThreshold: number;
  nmsThreshold: number;
}

const f = Math.fround;

/**
 * SCRFD's head outputs to faces, as insightface's scrfd.py: anchor centres (col * s, row * s),
 * each cell repeated per anchor; box = centre -/+ distance * stride; keypoint = centre + offset * stride;
 * keep score >= threshold; divide by the letterbox scale; stable sort by score; greedy NMS.
 * Arithmetic is float32 (Math.fround), as numpy does it on the float32 outputs, so keypoints
 * match the reference's to the last bit whenever the graph's outputs do.
 */
export function decodeScrfd(out: ScrfdOutputs, o: ScrfdDecodeOptions): Face[] {
  const scale = f(o.scale);
  const found: { box: Box; keypoints: Point[] }[] = [];
  o.strides.forEach((stride, level) => {
    const scores = out.scores[level]!,
      dist = out.boxes[level]!,
      kps = out.keypoints[level]!;
    const cells = Math.floor(o.size / stride);
    const anchors = cells * cells * o.anchorsPerCell;
    if (scores.length !== anchors || dist.length !== 4 * anchors || kps.length !== 10 * anchors) {
      throw new RangeError(`SCRFD stride ${stride} at size ${o.size}: expected ${anchors} anchors, got ${scores.length} scores`);
    }
    for (let a = 0; a < anchors; a++) {
      const score = scores[a]!;
      if (!(score >= o.scoreThreshold)) continue;
      const cell = Math.floor(a / o.anchorsPerCell);
      const cx = (cell % cells) * stride;
      const cy = Math.floor(cell / cells) * stride;
      const d = (k: number) => f(dist[4 * a + k]! * stride);
      const box: Box = {
        x1: f(f(cx - d(0)) / scale),
        y1: f(f(cy - d(1)) / scale),
        x2: f(f(cx + d(2)) / scale),
        y2: f(f(cy + d(3)) / scale),
        score,
      };
      const keypoints: Point[] = [];
      for (let k = 0; k < 5; k++) {
        keypoints.push([f(f(cx + f(kps[10 * a + 2 * k]! * stride)) / scale), f(f(cy + f(kps[10 * a + 2 * k + 1]! * stride)) / scale)]);
      }
      found.push({ box, keypoints });
    }
  });
  // Array.prototype.sort is stable, like numpy's argsort(kind="stable") in the reference.
  found.sort((a, b) => b.box.score - a.box.score);
  return nms(
    found.map((x) => x.box),
    o.nmsThreshold,
  ).map((i) => found[i]!);
}

/**
 * Faces ordered by box area, largest first (the order a request's face_index counts in; index 0 is the
 * reference's choice, its argmax). Areas are float32, as the reference's numpy; ties keep score order.
 */
export function bySize(faces: readonly Face[]): Face[] {
  const area = ({ box }: Face) => f(f(box.x2 - box.x1) * f(box.y2 - box.y1));
  return faces
    .map((face, i) => ({ face, i, a: area(face) }))
    .sort((x, y) => y.a - x.a || x.i - y.i)
    .map((x) => x.face);
}
