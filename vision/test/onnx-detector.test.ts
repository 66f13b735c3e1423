import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OnnxDetector } from '../src/onnx-detector.js';
import { setOnnxRuntimeLogLevel } from '../src/onnx-session.js';
import type { RgbFrame } from '../src/types.js';
import { buildOnnxModel, identityImageModel } from './onnx-builder.js';
import { YOLOV8_MODEL, YOLOX_MODEL } from './shared-data.js';
import { tempDir } from '@edgefleet/service-kit/testing';

setOnnxRuntimeLogLevel('fatal');

const cpu = { providers: ['cpu'] } as const;

/**
 * A real ONNX "YOLOv8" whose output is a constant [1, 6, 3] (2 classes, 3 anchors), in 64x64 input pixels:
 *   anchor 0: cat 0.9, box cx 32 cy 32 w 20 h 10 → [22, 27, 42, 37]
 *   anchor 1: cat 0.8, box shifted 1 px → IoU 0.9 with anchor 0, suppressed by NMS
 *   anchor 2: dog 0.7, box cx 60 cy 10 w 20 h 20 → [50, 0, 70, 20], partly outside the image
 */
function constantYolov8(): Uint8Array {
  const anchors = [
    [32, 32, 20, 10, 0.9, 0.05],
    [33, 32, 20, 10, 0.8, 0.0],
    [60, 10, 20, 20, 0.0, 0.7],
  ];
  const constant: number[] = [];
  for (let row = 0; row < 6; row++) for (const a of anchors) constant.push(a[row]!);
  return buildOnnxModel({
    inputs: [{ name: 'images', dims: [1, 3, 64, 64] }],
    outputs: [{ name: 'output0', dims: [1, 6, 3], constant }],
    metadata: [
      ['names', "{0: 'cat', 1: 'dog'}"],
      ['task', 'detect'],
      ['imgsz', '[64, 64]'],
    ],
  });
}

/** A 128x64 source: letterboxed into 64x64 at scale 0.5, content 64x32, centred with padY 16. */
function frame(width = 64, height = 32): RgbFrame {
  return {
    data: new Uint8Array(width * height * 3).fill(90),
    width,
    height,
    format: 'RGB',
    sourceWidth: 128,
    sourceHeight: 64,
  };
}

const round = (b: readonly number[]): number[] => b.map((v) => Math.round(v * 1000) / 1000);

async function writeModel(t: Parameters<typeof tempDir>[0], bytes: Uint8Array, name = 'model.onnx'): Promise<string> {
  const path = join(await tempDir(t), name);
  await writeFile(path, bytes);
  return path;
}

describe('OnnxDetector', () => {
  it('describes the real models: adapter, input size, pixel format, class names, provider, sha256', async () => {
    const v8 = await OnnxDetector.load(YOLOV8_MODEL(), cpu);
    const yx = await OnnxDetector.load(YOLOX_MODEL(), cpu);
    try {
      assert.equal(v8.info.adapter, 'yolov8');
      assert.deepEqual([v8.info.inputWidth, v8.info.inputHeight, v8.info.pixelFormat], [640, 640, 'RGB']);
      assert.equal(v8.info.classNames.length, 80);
      assert.equal(v8.info.classNames[0], 'person');
      assert.equal(v8.info.provider, 'cpu');
      assert.equal(v8.info.sha256, '8c6f0ca55e9b86c15fd6788a9edb78da087881df55cb225a64842284b84e250c');
      assert.equal(v8.info.metadata.task, 'detect');
      assert.equal(yx.info.adapter, 'yolox');
      assert.deepEqual([yx.info.inputWidth, yx.info.inputHeight, yx.info.pixelFormat], [416, 416, 'BGR']);
      assert.equal(yx.info.classNames[16], 'dog');
      assert.deepEqual(yx.letterboxFor(768, 576), {
        sourceWidth: 768,
        sourceHeight: 576,
        inputWidth: 416,
        inputHeight: 416,
        scale: 416 / 768,
        width: 416,
        height: 312,
        padX: 0,
        padY: 0,
      });
    } finally {
      await v8.close();
      await yx.close();
    }
  });

  it('maps boxes back to source pixels, clips them to the image, normalizes them and applies NMS', async (t) => {
    const detector = await OnnxDetector.load(await writeModel(t, constantYolov8()), cpu);
    try {
      assert.deepEqual(detector.letterboxFor(128, 64), {
        sourceWidth: 128,
        sourceHeight: 64,
        inputWidth: 64,
        inputHeight: 64,
        scale: 0.5,
        width: 64,
        height: 32,
        padX: 0,
        padY: 16,
      });
      const { detections, timings } = await detector.detect(frame(), { conf: 0.25, iou: 0.45 });
      assert.deepEqual(
        detections.map((d) => [d.label, d.classId, Math.round(d.score * 100) / 100, round(d.box), round(d.boxNorm)]),
        [
          ['cat', 0, 0.9, [44, 22, 84, 42], [0.344, 0.344, 0.656, 0.656]],
          ['dog', 1, 0.7, [100, 0, 128, 8], [0.781, 0, 1, 0.125]],
        ],
      );
      for (const ms of [timings.preMs, timings.inferMs, timings.postMs]) assert.ok(Number.isFinite(ms) && ms >= 0);
    } finally {
      await detector.close();
    }
  });

  it('applies conf and maxDetections', async (t) => {
    const detector = await OnnxDetector.load(await writeModel(t, constantYolov8()), cpu);
    try {
      assert.deepEqual(
        (await detector.detect(frame(), { conf: 0.75 })).detections.map((d) => d.label),
        ['cat'],
      );
      assert.deepEqual(
        (await detector.detect(frame(), { maxDetections: 1 })).detections.map((d) => d.label),
        ['cat'],
      );
      // Without NMS overlap suppression (IoU threshold 1) the shifted cat box survives.
      assert.equal((await detector.detect(frame(), { iou: 1 })).detections.length, 3);
    } finally {
      await detector.close();
    }
  });

  it('accepts frames at native size (resized in JS) with the same result', async (t) => {
    const detector = await OnnxDetector.load(await writeModel(t, constantYolov8()), cpu);
    try {
      const { detections } = await detector.detect(frame(128, 64));
      assert.deepEqual(round(detections[0]!.box), [44, 22, 84, 42]);
    } finally {
      await detector.close();
    }
  });

  it('runs concurrent detections on separate input buffers', async (t) => {
    const detector = await OnnxDetector.load(YOLOX_MODEL(), cpu);
    t.after(() => detector.close());
    // Seeded noise: the model finds different low-confidence boxes in each frame.
    const frames = [1, 2, 3].map((seed): RgbFrame => {
      const g = detector.letterboxFor(640, 480);
      let s = seed;
      const data = new Uint8Array(g.width * g.height * 3).map(() => {
        s = (s * 1103515245 + 12345) & 0x7fffffff;
        return s >> 23;
      });
      return { data, width: g.width, height: g.height, format: 'BGR', sourceWidth: 640, sourceHeight: 480 };
    });
    const sequential = [];
    for (const f of frames) sequential.push((await detector.detect(f, { conf: 0.001 })).detections);
    // Different frames give different answers, so a shared buffer overwritten mid-run would show.
    assert.notDeepEqual(sequential[0], sequential[1]);
    assert.notDeepEqual(sequential[1], sequential[2]);
    const concurrent = (await Promise.all(frames.map((f) => detector.detect(f, { conf: 0.001 })))).map(
      (r) => r.detections,
    );
    assert.deepEqual(concurrent, sequential);
  });

  it('rejects bad options and frames with VISION_ERR_BAD_OPTION / VISION_ERR_BAD_FRAME', async (t) => {
    const detector = await OnnxDetector.load(await writeModel(t, constantYolov8()), cpu);
    try {
      await assert.rejects(detector.detect(frame(), { conf: 1.5 }), { code: 'VISION_ERR_BAD_OPTION' });
      await assert.rejects(detector.detect(frame(), { iou: -0.1 }), { code: 'VISION_ERR_BAD_OPTION' });
      await assert.rejects(detector.detect(frame(), { maxDetections: 0 }), { code: 'VISION_ERR_BAD_OPTION' });
      await assert.rejects(detector.detect({ ...frame(), data: new Uint8Array(3) }), { code: 'VISION_ERR_BAD_FRAME' });
      await assert.rejects(detector.detect({ ...frame(), sourceWidth: 0 }), { code: 'VISION_ERR_BAD_FRAME' });
    } finally {
      await detector.close();
    }
  });

  it('refuses to detect after close()', async (t) => {
    const detector = await OnnxDetector.load(await writeModel(t, constantYolov8()), cpu);
    await detector.close();
    await assert.rejects(detector.detect(frame()), { code: 'VISION_ERR_CLOSED' });
  });

  it('rejects a real ONNX model that is not a detector, naming the shapes it saw', async (t) => {
    const path = await writeModel(t, identityImageModel(), 'identity.onnx');
    await assert.rejects(OnnxDetector.load(path, cpu), {
      code: 'VISION_ERR_MODEL_NOT_DETECTOR',
      message: /inputs: x float32\[1,3,64,64\]; outputs: y float32\[1,3,64,64\]/,
    });
  });

  it('rejects an adapter override that does not fit the model, and an unknown adapter name', async () => {
    await assert.rejects(OnnxDetector.load(YOLOX_MODEL(), { ...cpu, adapter: 'yolov8' }), {
      code: 'VISION_ERR_MODEL_NOT_DETECTOR',
      message: /adapter 'yolov8' does not fit/,
    });
    await assert.rejects(OnnxDetector.load(YOLOX_MODEL(), { ...cpu, adapter: 'detr' }), {
      code: 'VISION_ERR_BAD_OPTION',
    });
  });

  it('rejects a model whose Ultralytics names metadata is malformed', async (t) => {
    const bytes = buildOnnxModel({
      inputs: [{ name: 'images', dims: [1, 3, 64, 64] }],
      outputs: [{ name: 'output0', dims: [1, 6, 3], constant: new Array(18).fill(0) }],
      metadata: [['names', "{0: 'cat', 1: dog}"]],
    });
    await assert.rejects(OnnxDetector.load(await writeModel(t, bytes), cpu), {
      code: 'VISION_ERR_MODEL_METADATA',
      message: /'names' is not a valid Python literal/,
    });
  });
});
