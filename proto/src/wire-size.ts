import type { Detection, Frame, ImageStats } from './telemetry-messages.js';

/**
 * Encoded sizes of DetectionBatch parts, so a producer can cut batches to a byte budget while it builds
 * them instead of encoding and retrying. They follow protobufjs' encoder, which writes every field that
 * is set (zeros included) with one-byte tags (all field numbers are < 16). A test pins them to the real
 * encoder: header + the sum of the parts equals the encoded length.
 */

export function varintSize(n: number): number {
  let size = 1;
  // Division, not bit shifts: values go up to 2^53.
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function stringField(s: string): number {
  const bytes = Buffer.byteLength(s, 'utf8');
  return 1 + varintSize(bytes) + bytes;
}

function uintField(n: number): number {
  return 1 + varintSize(n);
}

/** Tag + length prefix of an embedded message of `size` bytes. */
function embedded(size: number): number {
  return 1 + varintSize(size) + size;
}

/** Bytes one frame adds to a DetectionBatch (the repeated field's tag and length prefix included). */
export function frameWireSize(f: Frame): number {
  return embedded(
    stringField(f.cameraId) +
      uintField(f.frameSeq) +
      uintField(f.frameId) +
      uintField(f.timestampMs) +
      stringField(f.modelId) +
      stringField(f.modelVersion) +
      stringField(f.arm) +
      uintField(f.detectionCount) +
      (f.imageStats ? embedded(imageStatsSize(f.imageStats)) : 0),
  );
}

/** An ImageStats message: four fixed32 floats (tag + 4 bytes each) and the packed luma grid (when not empty). */
function imageStatsSize(s: ImageStats): number {
  const grid = s.lumaGrid.length === 0 ? 0 : embedded(4 * s.lumaGrid.length);
  return 4 * 5 + grid;
}

/** Bytes one detection adds to a DetectionBatch. */
export function detectionWireSize(d: Detection): number {
  // score, x1, y1, x2, y2: fixed32 floats, 1 tag byte + 4 each.
  // The optional model/arm overrides are written only when set (shadow detections).
  const overrides =
    (d.modelId === undefined ? 0 : stringField(d.modelId)) +
    (d.modelVersion === undefined ? 0 : stringField(d.modelVersion)) +
    (d.arm === undefined ? 0 : stringField(d.arm));
  return embedded(
    stringField(d.cameraId) +
      uintField(d.seq) +
      uintField(d.frameSeq) +
      uintField(d.classId) +
      stringField(d.label) +
      25 +
      overrides,
  );
}

/** Bytes of a DetectionBatch's scalar fields (device_id, batch_id, sent_at_ms). */
export function batchHeaderWireSize(deviceId: string, batchId: number, sentAtMs: number): number {
  return stringField(deviceId) + uintField(batchId) + uintField(sentAtMs);
}
