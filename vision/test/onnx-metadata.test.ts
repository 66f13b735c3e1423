import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InferenceSession } from 'onnxruntime-node';
import { VisionError } from '../src/errors.js';
import { readOnnxMetadata, readOnnxMetadataFile } from '../src/onnx-metadata.js';
import { parseClassNames, parseImgsz } from '../src/ultralytics-metadata.js';
import { buildOnnxModel } from './onnx-builder.js';
import { YOLOV8_MODEL, YOLOX_MODEL } from './shared-data.js';
import { tempDir } from '@edgefleet/service-kit/testing';

describe('ONNX metadata_props', () => {
  it('reads the Ultralytics export metadata of yolov8n_int8.onnx', async () => {
    const meta = await readOnnxMetadataFile(YOLOV8_MODEL());
    assert.equal(meta.task, 'detect');
    const names = parseClassNames(meta.names!);
    assert.equal(names.length, 80);
    assert.equal(names[0], 'person');
    assert.equal(names[79], 'toothbrush');
    assert.deepEqual(parseImgsz(meta.imgsz!), { height: 640, width: 640 });
  });

  it('returns no entries for a model without metadata (yolox_nano.onnx)', async () => {
    assert.deepEqual(await readOnnxMetadataFile(YOLOX_MODEL()), {});
  });

  it('round-trips metadata written into a model that ONNX Runtime loads', async () => {
    const bytes = buildOnnxModel({
      inputs: [{ name: 'x', dims: [1, 3, 8, 8] }],
      outputs: [{ name: 'y', dims: [1, 3, 8, 8], identityOf: 'x' }],
      metadata: [
        ['names', "{0: 'thing'}"],
        ['note', 'ünïcode ✓'],
      ],
    });
    const session = await InferenceSession.create(bytes);
    await session.release();
    assert.deepEqual(readOnnxMetadata(bytes), { names: "{0: 'thing'}", note: 'ünïcode ✓' });
  });

  it('rejects duplicate metadata keys', () => {
    const bytes = buildOnnxModel({
      inputs: [],
      outputs: [],
      metadata: [
        ['k', '1'],
        ['k', '2'],
      ],
    });
    assert.throws(
      () => readOnnxMetadata(bytes),
      (err: unknown) => err instanceof VisionError && err.code === 'VISION_ERR_MODEL_METADATA',
    );
  });

  it('reports a truncated model as VISION_ERR_MODEL_CORRUPT', async () => {
    const bytes = await readFile(YOLOV8_MODEL());
    assert.throws(
      () => readOnnxMetadata(bytes.subarray(0, 100_000)),
      (err: unknown) =>
        err instanceof VisionError && err.code === 'VISION_ERR_MODEL_CORRUPT' && /cannot be decoded/.test(err.message),
    );
  });

  it('reports a missing file as VISION_ERR_MODEL_NOT_FOUND and a directory as VISION_ERR_MODEL_READ', async (t) => {
    const dir = await tempDir(t);
    await assert.rejects(readOnnxMetadataFile(join(dir, 'nope.onnx')), { code: 'VISION_ERR_MODEL_NOT_FOUND' });
    await assert.rejects(readOnnxMetadataFile(dir), { code: 'VISION_ERR_MODEL_READ' });
  });
});
