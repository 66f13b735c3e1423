import { isCameraId, isDeviceId } from './ids.js';
import {
  MAX_BATCH_DETECTIONS,
  MAX_BATCH_FRAMES,
  MAX_CAMERAS,
  MAX_ERROR_TEXT_LENGTH,
  MAX_PROVIDERS,
  MAX_TEXT_LENGTH,
} from './limits.js';
import {
  ARMS,
  CAMERA_STATES,
  type CameraMetrics,
  type CameraStatus,
  type Detection,
  type DetectionBatch,
  type DeviceMetrics,
  type DeviceStatus,
  type Frame,
  type ImageStats,
  LUMA_GRID_CELLS,
} from './telemetry-messages.js';
import { invalid } from './proto-error.js';
import { assertUint32, assertUint64, render } from './uint64.js';

/**
 * The fleet.v1 contract beyond what the .proto can say. Encoders run it so a producer learns about a bad
 * message before sending it; decoders run it so the ingest never stores one. Field paths in the messages
 * use the proto names (`detections[3].score`). Checks are about what would make a row unusable or
 * ambiguous (keys, ids, numbers); free text is only bounded in length.
 */

const ARM_SET: ReadonlySet<string> = new Set(ARMS);
const STATE_SET: ReadonlySet<string> = new Set(CAMERA_STATES);

function text(value: unknown, field: string, required: boolean, max = MAX_TEXT_LENGTH): void {
  if (typeof value !== 'string') throw invalid(field, `expected a string, got ${render(value)}`);
  if (required && value.length === 0) throw invalid(field, 'required, got an empty string');
  if (value.length > max) throw invalid(field, `longer than ${max} characters (${value.length})`);
}

function cameraId(value: unknown, field: string): void {
  if (!isCameraId(value))
    throw invalid(field, `expected a camera id matching /^[A-Za-z0-9_-]{1,64}$/, got ${render(value)}`);
}

function deviceId(value: unknown, field: string, expected: string | undefined): void {
  if (!isDeviceId(value))
    throw invalid(field, `expected a device id matching /^[A-Za-z0-9._-]{1,128}$/, got ${render(value)}`);
  if (expected !== undefined && value !== expected) {
    throw invalid(field, `${render(value)} does not match the topic's device ${render(expected)}`);
  }
}

/** A uint64 field that must be set (proto3 cannot tell 0 from absent, so 0 means missing). */
function positive(value: unknown, field: string): void {
  assertUint64(value, field);
  if ((value as number) < 1) throw invalid(field, 'required, must be >= 1');
}

function finite(value: unknown, field: string, min: number, max = Infinity): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw invalid(field, `must be a finite number ${range}, got ${render(value)}`);
  }
}

function list(value: unknown, field: string, max: number): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) throw invalid(field, `expected a list, got ${render(value)}`);
  if (value.length > max) throw invalid(field, `has ${value.length} items, at most ${max} allowed`);
}

function object(value: unknown, field: string): void {
  if (typeof value !== 'object' || value === null) throw invalid(field, `expected a message, got ${render(value)}`);
}

/** One frame on its own (membership of its detections is a batch rule). */
export function validateFrame(f: Frame, field = 'frame'): void {
  object(f, field);
  cameraId(f.cameraId, `${field}.camera_id`);
  positive(f.frameSeq, `${field}.frame_seq`);
  assertUint64(f.frameId, `${field}.frame_id`);
  positive(f.timestampMs, `${field}.timestamp_ms`);
  text(f.modelId, `${field}.model_id`, true);
  text(f.modelVersion, `${field}.model_version`, true);
  if (typeof f.arm !== 'string' || !ARM_SET.has(f.arm))
    throw invalid(`${field}.arm`, `expected one of ${ARMS.join(', ')}, got ${render(f.arm)}`);
  assertUint32(f.detectionCount, `${field}.detection_count`);
  if (f.imageStats !== undefined && f.imageStats !== null) validateImageStats(f.imageStats, `${field}.image_stats`);
}

/** A frame's image statistics: every value finite and in its range, a grid of exactly LUMA_GRID_CELLS cells. */
export function validateImageStats(s: ImageStats, field = 'image_stats'): void {
  object(s, field);
  finite(s.brightness, `${field}.brightness`, 0, 1);
  finite(s.contrast, `${field}.contrast`, 0, 1);
  finite(s.sharpness, `${field}.sharpness`, 0, 16);
  finite(s.saturation, `${field}.saturation`, 0, 1);
  list(s.lumaGrid, `${field}.luma_grid`, LUMA_GRID_CELLS);
  if (s.lumaGrid.length !== LUMA_GRID_CELLS)
    throw invalid(`${field}.luma_grid`, `must have exactly ${LUMA_GRID_CELLS} cells, got ${s.lumaGrid.length}`);
  for (let i = 0; i < s.lumaGrid.length; i++) finite(s.lumaGrid[i], `${field}.luma_grid[${i}]`, 0, 1);
}

/** One detection on its own. */
export function validateDetection(d: Detection, field = 'detection'): void {
  object(d, field);
  cameraId(d.cameraId, `${field}.camera_id`);
  positive(d.seq, `${field}.seq`);
  positive(d.frameSeq, `${field}.frame_seq`);
  assertUint32(d.classId, `${field}.class_id`);
  text(d.label, `${field}.label`, false);
  finite(d.score, `${field}.score`, 0, 1);
  finite(d.x1, `${field}.x1`, -Infinity);
  finite(d.y1, `${field}.y1`, -Infinity);
  finite(d.x2, `${field}.x2`, -Infinity);
  finite(d.y2, `${field}.y2`, -Infinity);
  if (d.x2 < d.x1) throw invalid(`${field}.x2`, `must be >= x1 (${d.x1}), got ${d.x2}`);
  if (d.y2 < d.y1) throw invalid(`${field}.y2`, `must be >= y1 (${d.y1}), got ${d.y2}`);
  if (d.modelId !== undefined) text(d.modelId, `${field}.model_id`, false);
  if (d.modelVersion !== undefined) text(d.modelVersion, `${field}.model_version`, false);
  if (d.arm !== undefined && d.arm !== ('' as string) && (typeof d.arm !== 'string' || !ARM_SET.has(d.arm))) {
    throw invalid(`${field}.arm`, `expected one of ${ARMS.join(', ')} (or empty: the frame's), got ${render(d.arm)}`);
  }
}

interface FrameSlot {
  readonly index: number;
  readonly declared: number;
  seen: number;
}

/**
 * A whole batch: at least one frame; every (camera, frame_seq) and (camera, seq) unique; every detection
 * belongs to a frame of the same batch; each frame's detection_count equals the detections it has here
 * (a batch is always whole frames, so a truncated or merged batch is caught).
 */
export function validateDetectionBatch(b: DetectionBatch, expectedDeviceId?: string): void {
  object(b, 'batch');
  deviceId(b.deviceId, 'device_id', expectedDeviceId);
  assertUint64(b.batchId, 'batch_id');
  positive(b.sentAtMs, 'sent_at_ms');
  list(b.frames, 'frames', MAX_BATCH_FRAMES);
  list(b.detections, 'detections', MAX_BATCH_DETECTIONS);
  if (b.frames.length === 0) throw invalid('frames', 'a batch carries at least one frame');

  const frames = new Map<string, Map<number, FrameSlot>>();
  b.frames.forEach((f, i) => {
    const field = `frames[${i}]`;
    validateFrame(f, field);
    let byCamera = frames.get(f.cameraId);
    if (!byCamera) {
      byCamera = new Map();
      frames.set(f.cameraId, byCamera);
    }
    const dup = byCamera.get(f.frameSeq);
    if (dup)
      throw invalid(`${field}.frame_seq`, `frame ${f.cameraId}/${f.frameSeq} already appears at frames[${dup.index}]`);
    byCamera.set(f.frameSeq, { index: i, declared: f.detectionCount, seen: 0 });
  });

  const seqs = new Map<string, Set<number>>();
  b.detections.forEach((d, i) => {
    const field = `detections[${i}]`;
    validateDetection(d, field);
    const slot = frames.get(d.cameraId)?.get(d.frameSeq);
    if (!slot) throw invalid(`${field}.frame_seq`, `frame ${d.cameraId}/${d.frameSeq} is not in this batch`);
    slot.seen++;
    let used = seqs.get(d.cameraId);
    if (!used) {
      used = new Set();
      seqs.set(d.cameraId, used);
    }
    if (used.has(d.seq)) throw invalid(`${field}.seq`, `detection ${d.cameraId}/${d.seq} appears twice`);
    used.add(d.seq);
  });

  for (const byCamera of frames.values()) {
    for (const slot of byCamera.values()) {
      if (slot.seen !== slot.declared) {
        throw invalid(
          `frames[${slot.index}].detection_count`,
          `declares ${slot.declared} detections, the batch carries ${slot.seen}`,
        );
      }
    }
  }
}

function validateCameraStatus(c: CameraStatus, field: string): void {
  object(c, field);
  cameraId(c.cameraId, `${field}.camera_id`);
  if (typeof c.state !== 'string' || !STATE_SET.has(c.state)) {
    throw invalid(`${field}.state`, `expected one of ${CAMERA_STATES.join(', ')}, got ${render(c.state)}`);
  }
  text(c.lastError, `${field}.last_error`, false, MAX_ERROR_TEXT_LENGTH);
  assertUint64(c.lastErrorAtMs, `${field}.last_error_at_ms`);
  assertUint32(c.restarts, `${field}.restarts`);
  assertUint64(c.framesCaptured, `${field}.frames_captured`);
  assertUint64(c.framesDropped, `${field}.frames_dropped`);
  assertUint64(c.framesProcessed, `${field}.frames_processed`);
  finite(c.fps, `${field}.fps`, 0);
  text(c.modelId, `${field}.model_id`, false);
  text(c.modelVersion, `${field}.model_version`, false);
  text(c.provider, `${field}.provider`, false);
}

function uniqueCameras(cameras: readonly { cameraId: string }[]): void {
  const seen = new Map<string, number>();
  cameras.forEach((c, i) => {
    const first = seen.get(c.cameraId);
    if (first !== undefined)
      throw invalid(`cameras[${i}].camera_id`, `camera ${render(c.cameraId)} already listed at cameras[${first}]`);
    seen.set(c.cameraId, i);
  });
}

export function validateDeviceStatus(s: DeviceStatus, expectedDeviceId?: string): void {
  object(s, 'status');
  deviceId(s.deviceId, 'device_id', expectedDeviceId);
  if (typeof s.online !== 'boolean') throw invalid('online', `expected a boolean, got ${render(s.online)}`);
  text(s.agentVersion, 'agent_version', false);
  assertUint64(s.startedAtMs, 'started_at_ms');
  positive(s.reportedAtMs, 'reported_at_ms');
  list(s.cameras, 'cameras', MAX_CAMERAS);
  s.cameras.forEach((c, i) => {
    validateCameraStatus(c, `cameras[${i}]`);
  });
  uniqueCameras(s.cameras);
  assertUint64(s.outboxFrames, 'outbox_frames');
  assertUint64(s.outboxDetections, 'outbox_detections');
  assertUint64(s.outboxEvictedDetections, 'outbox_evicted_detections');
  assertUint64(s.syncLagMs, 'sync_lag_ms');
  text(s.hardware, 'hardware', false);
  list(s.providers, 'providers', MAX_PROVIDERS);
  s.providers.forEach((p, i) => {
    text(p, `providers[${i}]`, true);
  });
}

function validateCameraMetrics(c: CameraMetrics, field: string): void {
  object(c, field);
  cameraId(c.cameraId, `${field}.camera_id`);
  finite(c.fps, `${field}.fps`, 0);
  assertUint64(c.framesDropped, `${field}.frames_dropped`);
  finite(c.inferenceMsP50, `${field}.inference_ms_p50`, 0);
  finite(c.inferenceMsP95, `${field}.inference_ms_p95`, 0);
  finite(c.preMsP50, `${field}.pre_ms_p50`, 0);
  finite(c.postMsP50, `${field}.post_ms_p50`, 0);
  finite(c.brightnessMean, `${field}.brightness_mean`, 0, 1);
  finite(c.contrastMean, `${field}.contrast_mean`, 0, 1);
}

export function validateDeviceMetrics(m: DeviceMetrics, expectedDeviceId?: string): void {
  object(m, 'metrics');
  deviceId(m.deviceId, 'device_id', expectedDeviceId);
  positive(m.reportedAtMs, 'reported_at_ms');
  list(m.cameras, 'cameras', MAX_CAMERAS);
  m.cameras.forEach((c, i) => {
    validateCameraMetrics(c, `cameras[${i}]`);
  });
  uniqueCameras(m.cameras);
  assertUint64(m.outboxFrames, 'outbox_frames');
  assertUint64(m.outboxDetections, 'outbox_detections');
  assertUint64(m.syncLagMs, 'sync_lag_ms');
  assertUint64(m.publishedBatches, 'published_batches');
}
