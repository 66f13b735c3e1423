// COCO mAP with hand-computed answers. Notation: rc = recall, pr = precision after each ranked
// detection; the precision envelope makes pr non-increasing from the right; AP is the mean of the
// enveloped precision at the 101 recall thresholds 0, .01, ..., 1 (a threshold that is never
// reached contributes 0).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  averagePrecision,
  boxIou,
  cocoMap,
  IOU_THRESHOLDS,
  RECALL_THRESHOLDS,
  type EvalBox,
  type EvalImage,
} from '../src/evaluation/coco-map.js';

const A: EvalBox = [0, 0, 10, 10];
const B: EvalBox = [20, 20, 40, 40];
const FAR: EvalBox = [100, 100, 110, 110];

const close = (actual: number | null, expected: number, msg?: string) => {
  assert.ok(actual !== null, msg);
  assert.ok(Math.abs(actual - expected) < 1e-12, `${msg ?? ''} expected ${expected}, got ${actual}`);
};

test('thresholds are numpy.linspace values as pycocotools uses them', () => {
  // numpy.linspace(.5, .95, 10) prints 0.8999999999999999 for the 9th value.
  assert.deepEqual(IOU_THRESHOLDS, [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95]);
  assert.equal(RECALL_THRESHOLDS.length, 101);
  assert.equal(RECALL_THRESHOLDS[57], 0.5700000000000001);
  assert.equal(RECALL_THRESHOLDS[100], 1);
});

test('boxIou: [0,0,10,10] vs [0,0,10,7] = 70 / 100 = 0.7; disjoint = 0', () => {
  assert.equal(boxIou(A, [0, 0, 10, 7]), 0.7);
  assert.equal(boxIou(A, FAR), 0);
  assert.equal(boxIou(A, A), 1);
});

test('perfect predictions give mAP50 = mAP50-95 = 1', () => {
  const images: EvalImage[] = [
    {
      groundTruth: [
        { classId: 0, box: A },
        { classId: 1, box: B },
      ],
      predictions: [
        { classId: 0, box: A, score: 0.9 },
        { classId: 1, box: B, score: 0.8 },
      ],
    },
    { groundTruth: [{ classId: 0, box: B }], predictions: [{ classId: 0, box: B, score: 0.7 }] },
  ];
  const r = cocoMap(images);
  assert.equal(r.mAP50, 1);
  assert.equal(r.mAP50_95, 1);
  assert.equal(r.precision, 1);
  assert.equal(r.recall, 1);
  assert.equal(r.instances, 3);
});

test('one FP ranked above the only TP: AP = 0.5', () => {
  // Ranked: FP(.9), TP(.8). rc = [0, 1], pr = [0, 1/2]; envelope: pr[0] = max(0, 1/2) = 1/2.
  // Recall threshold 0 → first index with rc >= 0 is 0 → 1/2; thresholds .01..1 → index 1 → 1/2.
  // AP = 101 × 1/2 / 101 = 0.5 at every IoU threshold (the TP box is exact).
  const r = cocoMap([
    {
      groundTruth: [{ classId: 0, box: A }],
      predictions: [
        { classId: 0, box: FAR, score: 0.9 },
        { classId: 0, box: A, score: 0.8 },
      ],
    },
  ]);
  close(r.mAP50, 0.5);
  close(r.mAP50_95, 0.5);
});

test('TP, FP, TP over two ground truths: AP = (51 + 50 × 2/3) / 101', () => {
  // Ranked: TP(.9), FP(.8), TP(.7), 2 GT. rc = [.5, .5, 1], pr = [1, 1/2, 2/3].
  // Envelope from the right: pr[1] = max(1/2, 2/3) = 2/3; pr[0] = max(1, 2/3) = 1 → [1, 2/3, 2/3].
  // Recall thresholds 0..0.50 (51 of them) → index 0 → 1; 0.51..1 (50) → index 2 → 2/3.
  // AP = (51 × 1 + 50 × 2/3) / 101 = 84.333.../101 = 0.834983498...
  const r = cocoMap([
    {
      groundTruth: [
        { classId: 0, box: A },
        { classId: 0, box: B },
      ],
      predictions: [
        { classId: 0, box: A, score: 0.9 },
        { classId: 0, box: FAR, score: 0.8 },
        { classId: 0, box: B, score: 0.7 },
      ],
    },
  ]);
  close(r.mAP50, (51 + (50 * 2) / 3) / 101);
});

test('a class with no ground truth is left out of the mean, with or without predictions', () => {
  // Class 0: perfect → AP 1. Class 1: predictions only → AP undefined (pycocotools: -1), not 0.
  // Class 2: declared, neither GT nor predictions → undefined. mAP = mean over {class 0} = 1.
  const r = cocoMap(
    [
      {
        groundTruth: [{ classId: 0, box: A }],
        predictions: [
          { classId: 0, box: A, score: 0.9 },
          { classId: 1, box: B, score: 0.95 },
        ],
      },
    ],
    { classIds: [0, 1, 2] },
  );
  assert.equal(r.mAP50, 1);
  assert.equal(r.mAP50_95, 1);
  const c1 = r.perClass.find((c) => c.classId === 1)!;
  assert.equal(c1.ap50, null);
  assert.equal(c1.ap50_95, null);
  assert.equal(c1.fp, 1, 'its predictions still count as false positives for precision');
  assert.equal(r.perClass.find((c) => c.classId === 2)!.ap50, null);
  // Precision pools classes: 1 TP (class 0) and 1 FP (class 1) above 0.25 → 1/2; recall 1/1.
  assert.equal(r.precision, 0.5);
  assert.equal(r.recall, 1);
});

test('an image with no predictions lowers recall: AP = 51/101', () => {
  // Two images, one GT each; only the first has a (correct) prediction.
  // Ranked: TP. rc = [1/2], pr = [1]. Thresholds 0..0.50 (51) → 1; above 0.5 never reached → 0.
  // AP = 51/101 = 0.504950495...
  const r = cocoMap([
    { groundTruth: [{ classId: 0, box: A }], predictions: [{ classId: 0, box: A, score: 0.9 }] },
    { groundTruth: [{ classId: 0, box: B }], predictions: [] },
  ]);
  close(r.mAP50, 51 / 101);
  assert.equal(r.recall, 0.5);
});

test('a duplicate prediction on an already matched ground truth is a false positive', () => {
  // GT a, b; predictions a(.9), a again(.8), b(.7) → TP, FP, TP: the same ranking as the
  // TP/FP/TP case, AP = (51 + 50 × 2/3) / 101. At conf 0.25: tp 2, fp 1 → precision 2/3.
  const r = cocoMap([
    {
      groundTruth: [
        { classId: 0, box: A },
        { classId: 0, box: B },
      ],
      predictions: [
        { classId: 0, box: A, score: 0.9 },
        { classId: 0, box: [0, 0, 10, 9.5], score: 0.8 },
        { classId: 0, box: B, score: 0.7 },
      ],
    },
  ]);
  close(r.mAP50, (51 + (50 * 2) / 3) / 101);
  assert.equal(r.fp, 1);
  close(r.precision, 2 / 3);
});

test('tied scores keep input order: within an image, then across images', () => {
  // Same score 0.5 for an FP and a TP. FP given first → ranked FP, TP → AP 0.5 (see above).
  const fpFirst = cocoMap([
    {
      groundTruth: [{ classId: 0, box: A }],
      predictions: [
        { classId: 0, box: FAR, score: 0.5 },
        { classId: 0, box: A, score: 0.5 },
      ],
    },
  ]);
  close(fpFirst.mAP50, 0.5);
  // TP given first → ranked TP, FP: rc = [1, 1], pr = [1, 1/2] → every threshold hits index 0 → AP 1.
  const tpFirst = cocoMap([
    {
      groundTruth: [{ classId: 0, box: A }],
      predictions: [
        { classId: 0, box: A, score: 0.5 },
        { classId: 0, box: FAR, score: 0.5 },
      ],
    },
  ]);
  close(tpFirst.mAP50, 1);
  // Across images: image 0's FP ranks before image 1's TP at equal score → AP 0.5.
  const acrossImages = cocoMap([
    { groundTruth: [], predictions: [{ classId: 0, box: FAR, score: 0.5 }] },
    { groundTruth: [{ classId: 0, box: A }], predictions: [{ classId: 0, box: A, score: 0.5 }] },
  ]);
  close(acrossImages.mAP50, 0.5);
});

test('a box with IoU 0.7 counts at thresholds .50-.70 only: AP50 = 1, AP50-95 = 5/10', () => {
  // IoU([0,0,10,10], [0,0,10,7]) = 0.7 → TP at .50 .55 .60 .65 .70 (AP 1 each), FP above (AP 0).
  // AP50-95 = (5 × 1 + 5 × 0) / 10 = 0.5.
  const r = cocoMap([
    { groundTruth: [{ classId: 0, box: A }], predictions: [{ classId: 0, box: [0, 0, 10, 7], score: 0.9 }] },
  ]);
  assert.equal(r.mAP50, 1);
  close(r.mAP50_95, 0.5);
  assert.deepEqual(r.perClass[0]!.ap, [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
});

test('greedy matching takes the unmatched ground truth with the highest IoU', () => {
  // GT a = [0,0,10,10], b = [2,0,12,10]. Prediction p1 = [1.5,0,11.5,10] (.9): IoU with a = 85/115
  // = .739, with b = 95/105 = .905 → takes b. p2 = a exactly (.8) → takes a (IoU 1). Both TP up
  // to .90. (Taking the first GT instead would leave p2 with b at IoU 80/120 = .667: an FP from .70.)
  // At .95: p1 matches nothing (.905 < .95) → ranked FP, TP with 2 GT: rc = [0, 1/2], pr = [0, 1/2]
  // → envelope [1/2, 1/2]; recall thresholds 0..0.50 (51) → 1/2, the rest unreached → AP = 25.5/101.
  const r = cocoMap([
    {
      groundTruth: [
        { classId: 0, box: [0, 0, 10, 10] },
        { classId: 0, box: [2, 0, 12, 10] },
      ],
      predictions: [
        { classId: 0, box: [1.5, 0, 11.5, 10], score: 0.9 },
        { classId: 0, box: [0, 0, 10, 10], score: 0.8 },
      ],
    },
  ]);
  const ap = r.perClass[0]!.ap;
  assert.deepEqual(ap.slice(0, 9), [1, 1, 1, 1, 1, 1, 1, 1, 1]);
  close(ap[9]!, 25.5 / 101);
  close(r.mAP50_95, (9 + 25.5 / 101) / 10);
});

test('precision and recall at a confidence threshold', () => {
  // 3 GT; predictions TP(.9), FP(.6), TP(.3), TP(.1).
  // conf .25: counted TP .9, FP .6, TP .3 → tp 2, fp 1, fn 1 → P = 2/3, R = 2/3.
  // conf .5: TP .9, FP .6 → tp 1, fp 1, fn 2 → P = 1/2, R = 1/3.
  const C: EvalBox = [50, 50, 60, 60];
  const images: EvalImage[] = [
    {
      groundTruth: [
        { classId: 0, box: A },
        { classId: 0, box: B },
        { classId: 0, box: C },
      ],
      predictions: [
        { classId: 0, box: A, score: 0.9 },
        { classId: 0, box: FAR, score: 0.6 },
        { classId: 0, box: B, score: 0.3 },
        { classId: 0, box: C, score: 0.1 },
      ],
    },
  ];
  const r = cocoMap(images);
  close(r.precision, 2 / 3);
  close(r.recall, 2 / 3);
  assert.deepEqual([r.tp, r.fp, r.fn], [2, 1, 1]);
  const r5 = cocoMap(images, { confThreshold: 0.5 });
  close(r5.precision, 1 / 2);
  close(r5.recall, 1 / 3);
  // A prediction at IoU 0.7 is a TP for P/R at IoU .5 and an FP at IoU .75.
  const loose = [
    { groundTruth: [{ classId: 0, box: A }], predictions: [{ classId: 0, box: [0, 0, 10, 7] as EvalBox, score: 0.9 }] },
  ];
  assert.equal(cocoMap(loose).precision, 1);
  assert.equal(cocoMap(loose, { prIouThreshold: 0.75 }).precision, 0);
});

test('at most 100 detections per image and class count', () => {
  // 100 FPs (scores .99 .. .9) above one TP (.1). Capped at 100: the TP is cut → AP 0.
  // With a cap of 101: ranked 100 FP then TP: pr[100] = 1/101, envelope → all 1/101; every
  // recall threshold reaches index 100 (rc jumps from 0 to 1 there) except 0 → index 0 → also 1/101.
  // AP = 1/101.
  const preds = Array.from({ length: 100 }, (_, i) => ({ classId: 0, box: FAR, score: 0.99 - i * 0.0009 }));
  const images = [
    { groundTruth: [{ classId: 0, box: A }], predictions: [...preds, { classId: 0, box: A, score: 0.1 }] },
  ];
  assert.equal(cocoMap(images).mAP50, 0);
  close(cocoMap(images, { maxDetections: 101 }).mAP50, 1 / 101);
});

test('averagePrecision with no ground truth is undefined and with no detections is 0', () => {
  assert.equal(averagePrecision([true], 0), null);
  assert.equal(averagePrecision([], 3), 0);
});

test('mAP is null when nothing has ground truth; bad inputs are rejected', () => {
  assert.equal(cocoMap([{ groundTruth: [], predictions: [{ classId: 0, box: A, score: 0.5 }] }]).mAP50, null);
  assert.throws(
    () => cocoMap([{ groundTruth: [{ classId: 0, box: [0, 0, Number.NaN, 1] }], predictions: [] }]),
    RangeError,
  );
  assert.throws(
    () => cocoMap([{ groundTruth: [], predictions: [{ classId: 0, box: A, score: Number.NaN }] }]),
    RangeError,
  );
  assert.throws(() => cocoMap([], { maxDetections: 0 }), RangeError);
});
