/**
 * OpenCV's cvRound on doubles (lrint in the default rounding mode: halves go to the even
 * neighbour). Python's round() and numpy's rint agree with it, Math.round does not.
 */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  // "+ 0" turns -0 into 0: C integers have no negative zero.
  return (r - v === 0.5 && r % 2 !== 0 ? r - 1 : r) + 0;
}
