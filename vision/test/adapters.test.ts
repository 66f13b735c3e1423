import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelSignature, TensorSignature } from '../src/adapters/tensor-layout.js';
import { selectAdapter } from '../src/adapters/select-adapter.js';
import { Yolov8Adapter } from '../src/adapters/yolov8-adapter.js';
import { YoloxAdapter, yoloxAnchorCount } from '../src/adapters/yolox-adapter.js';
import { COCO_80_NAMES } from '../src/coco-names.js';

const image = (dims: Array<number | null> = [1, 3, 640, 640]): TensorSignature => ({
  name: 'images',
  type: 'float32',
  dims,
});
const out = (dims: Array<number | null>, name = 'output0'): TensorSignature => ({ name, type: 'float32', dims });
const sig = (
  inputs: TensorSignature[],
  outputs: TensorSignature[],
  metadata: Record<string, string> = {},
): ModelSignature => ({
  inputs,
  outputs,
  metadata,
});

describe('Yolov8Adapter.fromSignature', () => {
  it('takes class names from metadata and the input size from the input shape', () => {
    const a = Yolov8Adapter.fromSignature(
      sig([image([1, 3, 480, 640])], [out([1, 6, 6300])], { names: "{0: 'cat', 1: 'dog'}" }),
    );
    assert.ok(a instanceof Yolov8Adapter);
    assert.deepEqual(a.classNames, ['cat', 'dog']);
    assert.deepEqual([a.inputWidth, a.inputHeight], [640, 480]);
  });

  it('uses imgsz from metadata when the input size is dynamic', () => {
    const a = Yolov8Adapter.fromSignature(
      sig([image([null, 3, null, null])], [out([null, 6, null])], {
        names: "{0: 'cat', 1: 'dog'}",
        imgsz: '[320, 416]',
      }),
    );
    assert.ok(a instanceof Yolov8Adapter);
    assert.deepEqual([a.inputWidth, a.inputHeight], [416, 320]);
  });

  it('falls back to COCO names for an 80-class model without metadata', () => {
    const a = Yolov8Adapter.fromSignature(sig([image()], [out([1, 84, 8400])]));
    assert.ok(a instanceof Yolov8Adapter);
    assert.equal(a.classNames, COCO_80_NAMES);
  });

  it('explains why a model does not fit', () => {
    const reasons: Array<[ModelSignature, RegExp]> = [
      [
        sig([image()], [out([1, 116, 8400]), out([1, 32, 160, 160], 'output1')], { task: 'segment' }),
        /task is 'segment'/,
      ],
      [sig([image()], [out([1, 84, 8400])], { names: "{0: 'cat'}" }), /84 channels but metadata names lists 1 classes/],
      [sig([image()], [out([1, 84, 8400]), out([1, 84, 8400], 'extra')]), /exactly 1 output, found 2/],
      [sig([image([1, 1, 640, 640])], [out([1, 84, 8400])]), /1 channels, expected 3/],
      [sig([image()], [out([1, 3549, 85])]), /not \[1, 4\+nc, N\]/],
      [sig([image()], [out([1, null, 8400])]), /dynamic channel dimension and no names/],
    ];
    for (const [s, reason] of reasons) {
      const result = Yolov8Adapter.fromSignature(s);
      assert.equal(typeof result, 'string');
      assert.match(result as string, reason);
    }
  });

  it('decodes [1, 4+nc, N] class-major: best class per anchor, score strictly above conf, cxcywh to corners', () => {
    const a = new Yolov8Adapter('images', 'output0', 64, 64, ['cat', 'dog']);
    // Rows: cx, cy, w, h, score(cat), score(dog); columns: anchors 0..2.
    const data = Float32Array.from([
      ...[10, 30, 50],
      ...[20, 30, 50],
      ...[4, 8, 2],
      ...[6, 8, 2],
      ...[0.9, 0.2, 0.1],
      ...[0.1, 0.3, 0.25],
    ]);
    const c = a.decode({ data, dims: [1, 6, 3] }, 0.25);
    assert.equal(c.count, 2);
    assert.deepEqual([...c.boxes.subarray(0, 8)], [8, 17, 12, 23, 26, 26, 34, 34]);
    assert.deepEqual([c.classIds[0], c.classIds[1]], [0, 1]);
    assert.deepEqual([c.scores[0], c.scores[1]], [Math.fround(0.9), Math.fround(0.3)]);
  });

  it('picks the same best class as a one-row-at-a-time scan over 4-row passes and the tail, lowest class id on ties', () => {
    const nc = 7; // one pass of four rows and a tail of three
    const n = 257;
    const names = Array.from({ length: nc }, (_, i) => `c${i}`);
    const a = new Yolov8Adapter('images', 'output0', 64, 64, names);
    const data = new Float32Array((4 + nc) * n);
    let seed = 5;
    for (let i = 4 * n; i < data.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      data[i] = Math.round((seed / 0x7fffffff) * 8) / 8; // coarse values: many ties, inside and across passes
    }
    const expected: Array<[number, number]> = [];
    for (let k = 0; k < n; k++) {
      let best = -1;
      let score = 0.25;
      for (let c = 0; c < nc; c++) if (data[(4 + c) * n + k]! > score) [best, score] = [c, data[(4 + c) * n + k]!];
      if (best >= 0) expected.push([best, score]);
    }
    const got = a.decode({ data, dims: [1, 4 + nc, n] }, 0.25);
    assert.equal(got.count, expected.length);
    assert.deepEqual(
      Array.from({ length: got.count }, (_, i) => [got.classIds[i], got.scores[i]]),
      expected,
    );
    assert.ok(expected.some(([c]) => c >= 4) && expected.some(([c]) => c < 4), 'winners in the pass and in the tail');
  });

  it('refuses an output whose shape changed from what the model declared', () => {
    const a = new Yolov8Adapter('images', 'output0', 64, 64, ['cat', 'dog']);
    assert.throws(() => a.decode({ data: new Float32Array(21), dims: [1, 7, 3] }, 0.25), {
      code: 'VISION_ERR_INFERENCE',
    });
  });
});

describe('YoloxAdapter', () => {
  it('counts anchors over strides 8, 16 and 32', () => {
    assert.equal(yoloxAnchorCount(416, 416), 3549);
    assert.equal(yoloxAnchorCount(640, 640), 8400);
    assert.equal(yoloxAnchorCount(32, 32), 21);
  });

  it('fits [1, N, 5+nc] when N matches the grid of the input size', () => {
    const a = YoloxAdapter.fromSignature(sig([image([1, 3, 416, 416])], [out([1, 3549, 85], 'output')]));
    assert.ok(a instanceof YoloxAdapter);
    assert.equal(a.classNames, COCO_80_NAMES);
    assert.equal(a.layout.pixelFormat, 'BGR');
    assert.equal(a.align, 'top-left');
    const wrongGrid = YoloxAdapter.fromSignature(sig([image([1, 3, 416, 416])], [out([1, 8400, 85])]));
    assert.match(wrongGrid as string, /8400 anchors, a 416x416 input with strides 8\/16\/32 gives 3549/);
  });

  it('decodes grid offsets per stride, exp sizes and obj × cls scores', () => {
    const a = new YoloxAdapter('images', 'output', 32, 32, ['thing']);
    const data = new Float32Array(21 * 6);
    // Anchor 5: stride 8 grid (gx 1, gy 1). tx .5, ty .25, tw 0, th ln 2, obj .8, cls .5 → score .4
    data.set([0.5, 0.25, 0, Math.log(2), 0.8, 0.5], 5 * 6);
    // Anchor 16: first of the stride-16 grid (gx 0, gy 0), score .81
    data.set([0, 0, 0, 0, 0.9, 0.9], 16 * 6);
    // Anchor 20: stride 32, obj high but cls low: .9 × .2 = .18 < conf
    data.set([0, 0, 0, 0, 0.9, 0.2], 20 * 6);
    const c = a.decode({ data, dims: [1, 21, 6] }, 0.25);
    assert.equal(c.count, 2);
    const box = (i: number): number[] => [...c.boxes.subarray(i * 4, i * 4 + 4)].map((v) => Math.round(v * 1e4) / 1e4);
    assert.deepEqual(box(0), [8, 2, 16, 18]);
    assert.deepEqual(box(1), [-8, -8, 8, 8]);
    assert.ok(Math.abs(c.scores[0]! - 0.4) < 1e-6);
    assert.ok(Math.abs(c.scores[1]! - 0.81) < 1e-6);
  });
});

describe('selectAdapter', () => {
  it('chooses by shape: [1,84,8400] is yolov8, [1,3549,85] is yolox', () => {
    assert.equal(selectAdapter(sig([image()], [out([1, 84, 8400])])).name, 'yolov8');
    assert.equal(selectAdapter(sig([image([1, 3, 416, 416])], [out([1, 3549, 85])])).name, 'yolox');
  });

  it('names the shapes and every adapter reason when nothing fits', () => {
    assert.throws(
      () => selectAdapter(sig([image([1, 3, 64, 64])], [out([1, 3, 64, 64], 'y')])),
      (err: unknown) => {
        assert.equal((err as { code?: string }).code, 'VISION_ERR_MODEL_NOT_DETECTOR');
        const message = (err as Error).message;
        assert.match(message, /inputs: images float32\[1,3,64,64\]; outputs: y float32\[1,3,64,64\]/);
        assert.match(message, /yolov8: output 'y' has rank 4, expected 3/);
        assert.match(message, /yolox: output 'y' has rank 4, expected 3/);
        return true;
      },
    );
  });

  it('honours an override and fails clearly when the model does not fit it', () => {
    assert.throws(() => selectAdapter(sig([image()], [out([1, 84, 8400])]), 'yolox'), {
      code: 'VISION_ERR_MODEL_NOT_DETECTOR',
      message: /adapter 'yolox' does not fit: output 'output0' has 84 anchors/,
    });
    assert.throws(() => selectAdapter(sig([image()], [out([1, 84, 8400])]), 'ssd'), { code: 'VISION_ERR_BAD_OPTION' });
  });
});
