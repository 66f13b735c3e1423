import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOnnxModel, constantDetector, identityImageModel } from '@edgefleet/vision/testing/onnx-builder';

/**
 * Model files for upload tests: tiny real ONNX detectors built in memory (vision's onnx-builder; a tag in
 * the metadata makes each build's bytes and sha256 unique) and the broken kinds an upload must refuse.
 * The real pretrained models stay in ../shared (shared-data.ts).
 */

/** A real Ultralytics-style detector (64×64 input, classes person and car), unique per tag. */
export function tinyDetector(
  tag = randomBytes(6).toString('hex'),
  classNames: readonly string[] = ['person', 'car'],
): Buffer {
  return Buffer.from(constantDetector({ classNames, metadata: [['edgefleet-test-tag', tag]] }));
}

/** Loads in ONNX Runtime but fits no detector adapter. */
export function notADetector(): Buffer {
  return Buffer.from(identityImageModel());
}

/** A YOLOv8-shaped detector (3 classes) without `names` metadata: its classes would be placeholders. */
export function detectorWithoutClassNames(): Buffer {
  const anchors = 16; // the YOLOv8 adapter needs more anchors than channels
  const channels = 4 + 3;
  return Buffer.from(
    buildOnnxModel({
      inputs: [{ name: 'images', dims: [1, 3, 64, 64] }],
      outputs: [
        { name: 'output0', dims: [1, channels, anchors], constant: new Array<number>(channels * anchors).fill(0.5) },
      ],
    }),
  );
}

/** Bytes that are no ONNX model at all. */
export function corruptModel(): Buffer {
  return Buffer.concat([Buffer.from('not an onnx file '), randomBytes(2000)]);
}

export function writeModelFile(dir: string, name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}
