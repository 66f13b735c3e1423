import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { iou, nmsClasswise, type CandidateSet } from '../src/nms.js';

function candidates(
  rows: Array<[x1: number, y1: number, x2: number, y2: number, score: number, classId: number]>,
): CandidateSet {
  return {
    boxes: Float32Array.from(rows.flatMap((r) => r.slice(0, 4))),
    scores: Float32Array.from(rows.map((r) => r[4])),
    classIds: Int32Array.from(rows.map((r) => r[5])),
    count: rows.length,
  };
}

describe('iou', () => {
  it('is intersection over union: 9x9 overlap of two 10x10 boxes gives 81/119', () => {
    const c = candidates([
      [0, 0, 10, 10, 1, 0],
      [1, 1, 11, 11, 1, 0],
    ]);
    assert.ok(Math.abs(iou(c.boxes, 0, 1) - 81 / 119) < 1e-6);
  });

  it('is 0 for boxes that only touch and 1 for identical boxes', () => {
    const c = candidates([
      [0, 0, 10, 10, 1, 0],
      [10, 0, 20, 10, 1, 0],
      [0, 0, 10, 10, 1, 0],
    ]);
    assert.equal(iou(c.boxes, 0, 1), 0);
    assert.equal(iou(c.boxes, 0, 2), 1);
  });
});

describe('nmsClasswise', () => {
  const rows: Array<[number, number, number, number, number, number]> = [
    [0, 0, 10, 10, 0.9, 0], // 0: kept (best of class 0)
    [1, 1, 11, 11, 0.8, 0], // 1: IoU 0.68 with #0 → suppressed at 0.45
    [1, 1, 11, 11, 0.85, 1], // 2: same place, other class → kept
    [20, 20, 30, 30, 0.7, 0], // 3: no overlap → kept
    [0, 0, 10, 5, 0.6, 0], // 4: IoU 0.5 with #0 → suppressed at 0.45, kept at 0.5 (strictly greater suppresses)
  ];

  it('keeps the best box per overlapping group within each class, highest score first', () => {
    assert.deepEqual(nmsClasswise(candidates(rows), 0.45, 300), [0, 2, 3]);
  });

  it('suppresses only when IoU is strictly above the threshold', () => {
    assert.deepEqual(nmsClasswise(candidates(rows), 0.5, 300), [0, 2, 3, 4]);
    assert.deepEqual(nmsClasswise(candidates(rows), 0.7, 300), [0, 2, 1, 3, 4]);
  });

  it('caps the result at maxDetections, keeping the highest scores', () => {
    assert.deepEqual(nmsClasswise(candidates(rows), 0.45, 2), [0, 2]);
  });

  it('a suppressed box does not suppress others (greedy against kept boxes only)', () => {
    // #1 overlaps #0 (suppressed); #2 overlaps #1 but not #0, so #2 survives.
    const chain = candidates([
      [0, 0, 10, 10, 0.9, 0],
      [5, 0, 15, 10, 0.8, 0],
      [10, 0, 20, 10, 0.7, 0],
    ]);
    assert.deepEqual(nmsClasswise(chain, 0.3, 300), [0, 2]);
  });

  it('returns nothing for no candidates', () => {
    assert.deepEqual(nmsClasswise(candidates([]), 0.45, 300), []);
  });
});
