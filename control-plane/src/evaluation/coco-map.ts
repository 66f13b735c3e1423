/**
 * COCO-style detection metrics, following pycocotools' COCOeval (bbox, area "all", no crowd):
 *
 * - IoU thresholds .50:.05:.95 and recall thresholds 0:.01:1 computed as numpy.linspace does,
 *   so a box with IoU exactly 0.70 matches at the .70 threshold as it does in pycocotools.
 * - Per image and class, detections are sorted by score (stable) and cut to `maxDetections`
 *   (100): pycocotools applies maxDets per image *per category* in evaluateImg.
 * - Greedy matching per image and class in score order: each detection takes the unmatched
 *   ground truth with the highest IoU ≥ the threshold (ties in IoU go to the later ground truth,
 *   as pycocotools' `<` comparison does).
 * - Per class, detections of all images are ranked by score; precision is made monotone
 *   (envelope) and sampled at the 101 recall thresholds; AP is their mean (unreached recall
 *   thresholds count as 0).
 * - AP of a class with no ground truth is undefined (`null` here; -1 in pycocotools) and is left
 *   out of the mean, whether or not it has predictions. mAP is the mean over classes with ground
 *   truth; `null` when no class has any.
 * - Unlike pycocotools, precision is tp / (tp + fp) without the `np.spacing(1)` term, so perfect
 *   predictions give exactly 1.
 *
 * Ties in score are broken deterministically: by image order, then by the order in which the
 * detections of an image were given (a stable sort, like pycocotools' mergesort).
 *
 * Precision and recall at a confidence threshold (default 0.25, IoU 0.5) are pooled over all
 * classes (micro average): tp / (tp + fp) and tp / ground truths, 0 when the denominator is 0.
 */

/** `[x1, y1, x2, y2]`, any consistent unit (pixels). */
export type EvalBox = readonly [number, number, number, number];

export interface EvalGroundTruth {
  readonly classId: number;
  readonly box: EvalBox;
}

export interface EvalPrediction {
  readonly classId: number;
  readonly box: EvalBox;
  readonly score: number;
}

/** Ground truth and predictions of one image. */
export interface EvalImage {
  readonly groundTruth: readonly EvalGroundTruth[];
  readonly predictions: readonly EvalPrediction[];
}

export interface CocoMapOptions {
  /** Classes to evaluate (predictions of other classes are ignored). Default: every class id seen. */
  readonly classIds?: readonly number[];
  /** Per image and class, default 100. */
  readonly maxDetections?: number;
  /** Confidence threshold for precision/recall, default 0.25. */
  readonly confThreshold?: number;
  /** IoU threshold for precision/recall, default 0.5. */
  readonly prIouThreshold?: number;
}

export interface ClassMetrics {
  readonly classId: number;
  /** Ground-truth boxes. */
  readonly gt: number;
  /** Predictions considered (after the per-image cap). */
  readonly predictions: number;
  readonly ap50: number | null;
  readonly ap50_95: number | null;
  /** AP at each IoU threshold of `IOU_THRESHOLDS`. */
  readonly ap: readonly (number | null)[];
  /** At `confThreshold` / `prIouThreshold`. */
  readonly precision: number;
  readonly recall: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

export interface CocoMapResult {
  readonly mAP50: number | null;
  readonly mAP50_95: number | null;
  readonly perClass: readonly ClassMetrics[];
  readonly precision: number;
  readonly recall: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly images: number;
  readonly instances: number;
}

/** numpy.linspace(.5, .95, 10): start + i * ((stop - start) / 9), last element exactly stop. */
export const IOU_THRESHOLDS: readonly number[] = (() => {
  const step = (0.95 - 0.5) / 9;
  return Array.from({ length: 10 }, (_, i) => (i === 9 ? 0.95 : i * step + 0.5));
})();

/** numpy.linspace(0, 1, 101). */
export const RECALL_THRESHOLDS: readonly number[] = Array.from({ length: 101 }, (_, i) => (i === 100 ? 1 : i * 0.01));

/** IoU of two `[x1, y1, x2, y2]` boxes (area = w·h, as pycocotools computes it). */
export function boxIou(a: EvalBox, b: EvalBox): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/** Stable sort by descending score (input order breaks ties). */
function byScore<T extends { score: number }>(items: readonly T[]): T[] {
  return items
    .map((item, i) => ({ item, i }))
    .sort((a, b) => b.item.score - a.item.score || a.i - b.i)
    .map(({ item }) => item);
}

/**
 * pycocotools' greedy matching for one image, one class, one threshold: returns, per detection
 * (in the given order), whether it matched a ground truth.
 */
export function matchDetections(ious: readonly (readonly number[])[], gtCount: number, threshold: number): boolean[] {
  const gtMatched = new Array<boolean>(gtCount).fill(false);
  return ious.map((row) => {
    let best = Math.min(threshold, 1 - 1e-10);
    let m = -1;
    for (let g = 0; g < gtCount; g++) {
      if (gtMatched[g]) continue;
      const v = row[g] as number;
      if (v < best) continue;
      best = v;
      m = g;
    }
    if (m < 0) return false;
    gtMatched[m] = true;
    return true;
  });
}

/** AP from detections ranked by score (true = TP) and the number of ground truths. */
export function averagePrecision(rankedTp: readonly boolean[], gtCount: number): number | null {
  if (gtCount === 0) return null;
  const nd = rankedTp.length;
  const rc = new Array<number>(nd);
  const pr = new Array<number>(nd);
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < nd; i++) {
    if (rankedTp[i]) tp++;
    else fp++;
    rc[i] = tp / gtCount;
    pr[i] = tp / (tp + fp);
  }
  // Precision envelope: the best precision at this or any higher recall.
  for (let i = nd - 1; i > 0; i--) {
    if ((pr[i] as number) > (pr[i - 1] as number)) pr[i - 1] = pr[i] as number;
  }
  let sum = 0;
  let k = 0;
  for (const r of RECALL_THRESHOLDS) {
    // np.searchsorted(rc, r, side='left'): first index with rc >= r.
    while (k < nd && (rc[k] as number) < r) k++;
    if (k < nd) sum += pr[k] as number;
  }
  return sum / RECALL_THRESHOLDS.length;
}

function checkBox(box: EvalBox, what: string): void {
  if (box.length !== 4 || box.some((v) => typeof v !== 'number' || !Number.isFinite(v)))
    throw new RangeError(`${what} box must be 4 finite numbers, got ${JSON.stringify(box)}`);
}

interface RankedDetection {
  readonly score: number;
  /** Match per IoU threshold, then the P/R threshold last. */
  readonly matched: boolean[];
}

export function cocoMap(images: readonly EvalImage[], options: CocoMapOptions = {}): CocoMapResult {
  const maxDets = options.maxDetections ?? 100;
  const conf = options.confThreshold ?? 0.25;
  const prIou = options.prIouThreshold ?? 0.5;
  if (!Number.isInteger(maxDets) || maxDets < 1)
    throw new RangeError(`maxDetections must be a positive integer, got ${maxDets}`);
  if (!(conf >= 0 && conf <= 1)) throw new RangeError(`confThreshold must be within 0..1, got ${conf}`);
  if (!(prIou > 0 && prIou <= 1)) throw new RangeError(`prIouThreshold must be within (0, 1], got ${prIou}`);
  for (const img of images) {
    img.groundTruth.forEach((g) => {
      checkBox(g.box, 'ground-truth');
    });
    img.predictions.forEach((p) => {
      checkBox(p.box, 'prediction');
      if (!Number.isFinite(p.score)) throw new RangeError(`prediction score must be finite, got ${p.score}`);
    });
  }
  const classIds =
    options.classIds ??
    [
      ...new Set(
        images.flatMap((img) => [...img.groundTruth.map((g) => g.classId), ...img.predictions.map((p) => p.classId)]),
      ),
    ].sort((a, b) => a - b);
  const thresholds = [...IOU_THRESHOLDS, prIou];
  const perClass: ClassMetrics[] = [];
  let instances = 0;
  for (const classId of classIds) {
    const ranked: RankedDetection[] = [];
    let gtCount = 0;
    for (const img of images) {
      const gts = img.groundTruth.filter((g) => g.classId === classId);
      const dets = byScore(img.predictions.filter((p) => p.classId === classId)).slice(0, maxDets);
      gtCount += gts.length;
      const ious = dets.map((d) => gts.map((g) => boxIou(d.box, g.box)));
      const perThreshold = thresholds.map((t) => matchDetections(ious, gts.length, t));
      dets.forEach((d, i) => {
        ranked.push({ score: d.score, matched: perThreshold.map((m) => m[i] as boolean) });
      });
    }
    instances += gtCount;
    // Image order then per-image order is the input order; the stable sort keeps it for ties.
    const order = byScore(ranked);
    const ap = IOU_THRESHOLDS.map((_, t) =>
      averagePrecision(
        order.map((d) => d.matched[t] as boolean),
        gtCount,
      ),
    );
    const prIndex = thresholds.length - 1;
    let tp = 0;
    let fp = 0;
    for (const d of order) {
      if (d.score < conf) continue;
      if (d.matched[prIndex]) tp++;
      else fp++;
    }
    const valid = ap.filter((v): v is number => v !== null);
    perClass.push({
      classId,
      gt: gtCount,
      predictions: order.length,
      ap50: ap[0] ?? null,
      ap50_95: valid.length === ap.length ? valid.reduce((a, b) => a + b, 0) / valid.length : null,
      ap,
      precision: tp + fp > 0 ? tp / (tp + fp) : 0,
      recall: gtCount > 0 ? tp / gtCount : 0,
      tp,
      fp,
      fn: gtCount - tp,
    });
  }
  const withGt = perClass.filter((c) => c.gt > 0);
  const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const tp = perClass.reduce((s, c) => s + c.tp, 0);
  const fp = perClass.reduce((s, c) => s + c.fp, 0);
  const fn = perClass.reduce((s, c) => s + c.fn, 0);
  return {
    mAP50: mean(withGt.map((c) => c.ap50 as number)),
    mAP50_95: mean(withGt.map((c) => c.ap50_95 as number)),
    perClass,
    precision: tp + fp > 0 ? tp / (tp + fp) : 0,
    recall: tp + fn > 0 ? tp / (tp + fn) : 0,
    tp,
    fp,
    fn,
    images: images.length,
    instances,
  };
}
