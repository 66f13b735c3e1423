import type protobuf from 'protobufjs';
import { DEFAULT_MAX_PAYLOAD_BYTES } from './limits.js';
import type {
  Arm,
  CameraMetrics,
  CameraState,
  CameraStatus,
  Detection,
  DetectionBatch,
  DeviceMetrics,
  DeviceStatus,
  Frame,
  ImageStats,
} from './telemetry-messages.js';
import { ProtoError } from './proto-error.js';
import { FleetV1 } from './schema.js';
import { uint64ToNumber } from './uint64.js';
import { validateDetectionBatch, validateDeviceMetrics, validateDeviceStatus } from './telemetry-validate.js';

/**
 * Typed, validating codecs for the fleet.v1 payloads, shared by the edge agent (encode) and the control
 * plane (decode). Encoders validate before encoding and refuse payloads over the size limit; decoders
 * check the size first, decode, convert uint64 values to safe numbers and validate. Every failure is a
 * ProtoError (PROTO_ERR_TOO_LARGE, PROTO_ERR_DECODE or PROTO_ERR_INVALID); nothing else is thrown.
 * Unknown fields are skipped, so a v1 decoder accepts payloads from a producer with additive changes.
 */

export interface EncodeOptions {
  /** Default DEFAULT_MAX_PAYLOAD_BYTES (1 MiB). */
  readonly maxBytes?: number;
}

export interface DecodeOptions {
  /** Payloads above it are refused before parsing. Default DEFAULT_MAX_PAYLOAD_BYTES (1 MiB). */
  readonly maxBytes?: number;
  /** The device named by the topic the payload came on; `device_id` must equal it. */
  readonly deviceId?: string;
}

function limit(options: { maxBytes?: number } | undefined): number {
  const max = options?.maxBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (!Number.isSafeInteger(max) || max < 1)
    throw new RangeError(`maxBytes must be a positive integer, got ${String(max)}`);
  return max;
}

function encode(type: protobuf.Type, message: object, name: string, options: EncodeOptions | undefined): Uint8Array {
  const max = limit(options);
  let bytes: Uint8Array;
  try {
    bytes = type.encode(message).finish();
  } catch (err) {
    // Validation ran first, so this is a protobufjs surprise; keep the contract of throwing ProtoError.
    throw new ProtoError('PROTO_ERR_INVALID', `${name} cannot be encoded: ${(err as Error).message}`, { cause: err });
  }
  if (bytes.length > max)
    throw new ProtoError('PROTO_ERR_TOO_LARGE', `${name} encodes to ${bytes.length} bytes, limit ${max}`);
  return bytes;
}

function decode(
  type: protobuf.Type,
  payload: Uint8Array,
  name: string,
  options: DecodeOptions | undefined,
): Record<string, unknown> {
  const max = limit(options);
  if (!(payload instanceof Uint8Array))
    throw new ProtoError('PROTO_ERR_DECODE', `${name} payload must be bytes, got ${typeof payload}`);
  if (payload.length > max)
    throw new ProtoError('PROTO_ERR_TOO_LARGE', `${name} payload has ${payload.length} bytes, limit ${max}`);
  // A plain Uint8Array view, never a Buffer: protobufjs' BufferReader clamps a string that runs past the
  // end instead of failing, its plain Reader reports the truncation.
  const bytes = Buffer.isBuffer(payload) ? new Uint8Array(payload.buffer, payload.byteOffset, payload.length) : payload;
  try {
    return type.decode(bytes) as unknown as Record<string, unknown>;
  } catch (err) {
    throw new ProtoError('PROTO_ERR_DECODE', `${name}: ${(err as Error).message}`, { cause: err });
  }
}

type Decoded = Record<string, unknown>;

function str(m: Decoded, key: string): string {
  return m[key] as string;
}

function u64(m: Decoded, key: string, field: string): number {
  return uint64ToNumber(m[key], field);
}

function num(m: Decoded, key: string): number {
  return m[key] as number;
}

function items(m: Decoded, key: string): Decoded[] {
  return (m[key] as Decoded[] | undefined) ?? [];
}

function imageStatsOf(s: Decoded): ImageStats {
  return {
    brightness: num(s, 'brightness'),
    contrast: num(s, 'contrast'),
    sharpness: num(s, 'sharpness'),
    saturation: num(s, 'saturation'),
    lumaGrid: (s.lumaGrid as number[] | undefined) ?? [],
  };
}

// ---- DetectionBatch ---------------------------------------------------------------------------

export function encodeDetectionBatch(batch: DetectionBatch, options?: EncodeOptions): Uint8Array {
  validateDetectionBatch(batch);
  return encode(FleetV1.DetectionBatch, batch, 'DetectionBatch', options);
}

export function decodeDetectionBatch(payload: Uint8Array, options?: DecodeOptions): DetectionBatch {
  const m = decode(FleetV1.DetectionBatch, payload, 'DetectionBatch', options);
  const frames: Frame[] = items(m, 'frames').map((f, i) => {
    const frame: Frame = {
      cameraId: str(f, 'cameraId'),
      frameSeq: u64(f, 'frameSeq', `frames[${i}].frame_seq`),
      frameId: u64(f, 'frameId', `frames[${i}].frame_id`),
      timestampMs: u64(f, 'timestampMs', `frames[${i}].timestamp_ms`),
      modelId: str(f, 'modelId'),
      modelVersion: str(f, 'modelVersion'),
      arm: str(f, 'arm') as Arm,
      detectionCount: num(f, 'detectionCount'),
    };
    // A message field decodes as null/undefined when absent: no statistics (an older agent).
    const stats = f.imageStats as Decoded | null | undefined;
    return stats ? { ...frame, imageStats: imageStatsOf(stats) } : frame;
  });
  const detections: Detection[] = items(m, 'detections').map((d, i) => {
    const base: Detection = {
      cameraId: str(d, 'cameraId'),
      seq: u64(d, 'seq', `detections[${i}].seq`),
      frameSeq: u64(d, 'frameSeq', `detections[${i}].frame_seq`),
      classId: num(d, 'classId'),
      label: str(d, 'label'),
      score: num(d, 'score'),
      x1: num(d, 'x1'),
      y1: num(d, 'y1'),
      x2: num(d, 'x2'),
      y2: num(d, 'y2'),
    };
    // proto3 strings decode as '' when absent: only set overrides become fields.
    const modelId = str(d, 'modelId');
    const modelVersion = str(d, 'modelVersion');
    const arm = str(d, 'arm');
    if (!modelId && !modelVersion && !arm) return base;
    return {
      ...base,
      ...(modelId ? { modelId } : {}),
      ...(modelVersion ? { modelVersion } : {}),
      ...(arm ? { arm: arm as Arm } : {}),
    };
  });
  const batch: DetectionBatch = {
    deviceId: str(m, 'deviceId'),
    batchId: u64(m, 'batchId', 'batch_id'),
    sentAtMs: u64(m, 'sentAtMs', 'sent_at_ms'),
    frames,
    detections,
  };
  validateDetectionBatch(batch, options?.deviceId);
  return batch;
}

// ---- DeviceStatus -----------------------------------------------------------------------------

export function encodeDeviceStatus(status: DeviceStatus, options?: EncodeOptions): Uint8Array {
  validateDeviceStatus(status);
  return encode(FleetV1.DeviceStatus, status, 'DeviceStatus', options);
}

export function decodeDeviceStatus(payload: Uint8Array, options?: DecodeOptions): DeviceStatus {
  const m = decode(FleetV1.DeviceStatus, payload, 'DeviceStatus', options);
  const cameras: CameraStatus[] = items(m, 'cameras').map((c, i) => ({
    cameraId: str(c, 'cameraId'),
    state: str(c, 'state') as CameraState,
    lastError: str(c, 'lastError'),
    lastErrorAtMs: u64(c, 'lastErrorAtMs', `cameras[${i}].last_error_at_ms`),
    restarts: num(c, 'restarts'),
    framesCaptured: u64(c, 'framesCaptured', `cameras[${i}].frames_captured`),
    framesDropped: u64(c, 'framesDropped', `cameras[${i}].frames_dropped`),
    framesProcessed: u64(c, 'framesProcessed', `cameras[${i}].frames_processed`),
    fps: num(c, 'fps'),
    modelId: str(c, 'modelId'),
    modelVersion: str(c, 'modelVersion'),
    provider: str(c, 'provider'),
  }));
  const status: DeviceStatus = {
    deviceId: str(m, 'deviceId'),
    online: m.online as boolean,
    agentVersion: str(m, 'agentVersion'),
    startedAtMs: u64(m, 'startedAtMs', 'started_at_ms'),
    reportedAtMs: u64(m, 'reportedAtMs', 'reported_at_ms'),
    cameras,
    outboxFrames: u64(m, 'outboxFrames', 'outbox_frames'),
    outboxDetections: u64(m, 'outboxDetections', 'outbox_detections'),
    outboxEvictedDetections: u64(m, 'outboxEvictedDetections', 'outbox_evicted_detections'),
    syncLagMs: u64(m, 'syncLagMs', 'sync_lag_ms'),
    hardware: str(m, 'hardware'),
    providers: [...((m.providers as string[] | undefined) ?? [])],
  };
  validateDeviceStatus(status, options?.deviceId);
  return status;
}

// ---- DeviceMetrics ----------------------------------------------------------------------------

export function encodeDeviceMetrics(metrics: DeviceMetrics, options?: EncodeOptions): Uint8Array {
  validateDeviceMetrics(metrics);
  return encode(FleetV1.DeviceMetrics, metrics, 'DeviceMetrics', options);
}

export function decodeDeviceMetrics(payload: Uint8Array, options?: DecodeOptions): DeviceMetrics {
  const m = decode(FleetV1.DeviceMetrics, payload, 'DeviceMetrics', options);
  const cameras: CameraMetrics[] = items(m, 'cameras').map((c, i) => ({
    cameraId: str(c, 'cameraId'),
    fps: num(c, 'fps'),
    framesDropped: u64(c, 'framesDropped', `cameras[${i}].frames_dropped`),
    inferenceMsP50: num(c, 'inferenceMsP50'),
    inferenceMsP95: num(c, 'inferenceMsP95'),
    preMsP50: num(c, 'preMsP50'),
    postMsP50: num(c, 'postMsP50'),
    brightnessMean: num(c, 'brightnessMean'),
    contrastMean: num(c, 'contrastMean'),
  }));
  const metrics: DeviceMetrics = {
    deviceId: str(m, 'deviceId'),
    reportedAtMs: u64(m, 'reportedAtMs', 'reported_at_ms'),
    cameras,
    outboxFrames: u64(m, 'outboxFrames', 'outbox_frames'),
    outboxDetections: u64(m, 'outboxDetections', 'outbox_detections'),
    syncLagMs: u64(m, 'syncLagMs', 'sync_lag_ms'),
    publishedBatches: u64(m, 'publishedBatches', 'published_batches'),
  };
  validateDeviceMetrics(metrics, options?.deviceId);
  return metrics;
}
