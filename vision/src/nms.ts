/**
 * Class-wise greedy non-maximum suppression: within each class, boxes are taken by descending score
 * and a box is dropped when its IoU with an already kept box of the same class exceeds the threshold
 * (strictly greater, as torchvision.ops.nms).
 */

/** Decoded candidate boxes in structure-of-arrays form; only the first `count` entries are valid. */
export interface CandidateSet {
  /** `[x1, y1, x2, y2]` per candidate, 4 floats each. */
  readonly boxes: Float32Array;
  readonly scores: Float32Array;
  readonly classIds: Int32Array;
  readonly count: number;
}

export function iou(boxes: Float32Array, a: number, b: number): number {
  const ax1 = boxes[a * 4]!,
    ay1 = boxes[a * 4 + 1]!,
    ax2 = boxes[a * 4 + 2]!,
    ay2 = boxes[a * 4 + 3]!;
  const bx1 = boxes[b * 4]!,
    by1 = boxes[b * 4 + 1]!,
    bx2 = boxes[b * 4 + 2]!,
    by2 = boxes[b * 4 + 3]!;
  const iw = Math.min(ax2, bx2) - Math.max(ax1, bx1);
  const ih = Math.min(ay2, by2) - Math.max(ay1, by1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Returns the indices of the kept candidates, highest score first, at most `maxDetections`.
 */
export function nmsClasswise(candidates: CandidateSet, iouThreshold: number, maxDetections: number): number[] {
  const { boxes, scores, classIds, count } = candidates;
  if (count === 0 || maxDetections <= 0) return [];
  const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);

  // Bucket by class keeping score order, so each class only compares against itself.
  const byClass = new Map<number, number[]>();
  for (const i of order) {
    const c = classIds[i]!;
    let bucket = byClass.get(c);
    if (!bucket) byClass.set(c, (bucket = []));
    bucket.push(i);
  }

  const kept: number[] = [];
  for (const bucket of byClass.values()) {
    const keptInClass: number[] = [];
    for (const i of bucket) {
      let suppressed = false;
      for (const k of keptInClass) {
        if (iou(boxes, i, k) > iouThreshold) {
          suppressed = true;
          break;
        }
      }
      if (!suppressed) {
        keptInClass.push(i);
        // A class can contribute at most maxDetections boxes to the final list.
        if (keptInClass.length === maxDetections) break;
      }
    }
    kept.push(...keptInClass);
  }
  kept.sort((a, b) => scores[b]! - scores[a]! || a - b);
  if (kept.length > maxDetections) kept.length = maxDetections;
  return kept;
}
