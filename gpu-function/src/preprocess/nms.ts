/** A face box in source pixels: corners and detector score. */
export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
}

/**
 * Greedy non-maximum suppression over boxes already sorted by score (best first), with
 * insightface's "+1 pixel" areas; a box survives when its IoU with every kept box is <= threshold.
 * Returns the indices kept, in order.
 */
export function nms(boxes: readonly Box[], threshold: number): number[] {
  const area = (b: Box) => (b.x2 - b.x1 + 1) * (b.y2 - b.y1 + 1);
  let order = boxes.map((_, i) => i);
  const keep: number[] = [];
  while (order.length) {
    const i = order[0]!;
    const a = boxes[i]!;
    keep.push(i);
    order = order.slice(1).filter((j) => {
      const b = boxes[j]!;
      const w = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1) + 1);
      const h = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1) + 1);
      const inter = w * h;
      return inter / (area(a) + area(b) - inter) <= threshold;
    });
  }
  return keep;
}
