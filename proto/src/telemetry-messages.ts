/**
 * TypeScript shapes of the fleet.v1 messages (fleet/v1/telemetry.proto), field for field, in the camelCase
 * names protobufjs gives them. uint64 fields are plain numbers: every value the platform produces
 * (sequence numbers, epoch milliseconds, counters) stays below 2^53, and decoding rejects anything larger
 * instead of rounding it. float fields (score, box) travel as 32-bit floats: a decoded value equals
 * `Math.fround` of the encoded one.
 */

/** A/B arm that produced a frame. */
export const ARMS = ['primary', 'candidate', 'shadow'] as const;
export type Arm = (typeof ARMS)[number];

/** Camera capture states carried in DeviceStatus. */
export const CAMERA_STATES = ['starting', 'running', 'reconnecting', 'failed', 'stopped', 'finished'] as const;
export type CameraState = (typeof CAMERA_STATES)[number];

export interface Frame {
  readonly cameraId: string;
  /** Per-camera frame sequence number, >= 1. */
  readonly frameSeq: number;
  readonly frameId: number;
  /** Capture time, ms since the Unix epoch, >= 1. */
  readonly timestampMs: number;
  readonly modelId: string;
  readonly modelVersion: string;
  readonly arm: Arm;
  /** Must equal the number of this frame's detections in the same batch. */
  readonly detectionCount: number;
  /** Absent when the agent sends none (older agents). */
  readonly imageStats?: ImageStats;
}

/** Cells of `ImageStats.lumaGrid`: a 4×4 grid, row-major. */
export const LUMA_GRID_CELLS = 16;

/** Image statistics of one frame, on BT.601 luma in [0, 1] (see telemetry.proto for each definition). */
export interface ImageStats {
  /** Mean luma, [0, 1]. */
  readonly brightness: number;
  /** Luma standard deviation, [0, 1]. */
  readonly contrast: number;
  /** Mean square of the 4-neighbour Laplacian of luma, [0, 16]. */
  readonly sharpness: number;
  /** Mean HSV saturation, [0, 1]. */
  readonly saturation: number;
  /** Mean luma of a 4×4 grid's cells, row-major: exactly LUMA_GRID_CELLS values in [0, 1]. */
  readonly lumaGrid: readonly number[];
}

export interface Detection {
  readonly cameraId: string;
  /** Per-camera detection sequence number, >= 1: the idempotency key (device, camera, seq). */
  readonly seq: number;
  /** The frame (same camera, same batch) this detection belongs to. */
  readonly frameSeq: number;
  readonly classId: number;
  readonly label: string;
  /** In [0, 1]. */
  readonly score: number;
  /** Box in source pixels, x2 >= x1 and y2 >= y1. */
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
  /**
   * Only on detections of another model than their frame's (shadow mode: the shadow model's detections on
   * the same frame, arm 'shadow'). Absent: the frame's model and arm.
   */
  readonly modelId?: string;
  readonly modelVersion?: string;
  readonly arm?: Arm;
}

/** Payload of `fleet/v1/{device}/detections`. */
export interface DetectionBatch {
  readonly deviceId: string;
  /** Agent-side counter for logs; not an idempotency key. */
  readonly batchId: number;
  /** When the batch left the outbox, ms since epoch, >= 1. */
  readonly sentAtMs: number;
  readonly frames: readonly Frame[];
  readonly detections: readonly Detection[];
}

export interface CameraStatus {
  readonly cameraId: string;
  readonly state: CameraState;
  readonly lastError: string;
  readonly lastErrorAtMs: number;
  readonly restarts: number;
  readonly framesCaptured: number;
  readonly framesDropped: number;
  readonly framesProcessed: number;
  readonly fps: number;
  readonly modelId: string;
  readonly modelVersion: string;
  readonly provider: string;
}

/** Payload of `fleet/v1/{device}/status` (retained; the last will has online = false). */
export interface DeviceStatus {
  readonly deviceId: string;
  readonly online: boolean;
  readonly agentVersion: string;
  readonly startedAtMs: number;
  /** >= 1. */
  readonly reportedAtMs: number;
  readonly cameras: readonly CameraStatus[];
  readonly outboxFrames: number;
  readonly outboxDetections: number;
  readonly outboxEvictedDetections: number;
  /** Age of the oldest unsent frame, ms; 0 when the outbox is empty. */
  readonly syncLagMs: number;
  readonly hardware: string;
  readonly providers: readonly string[];
}

export interface CameraMetrics {
  readonly cameraId: string;
  readonly fps: number;
  readonly framesDropped: number;
  readonly inferenceMsP50: number;
  readonly inferenceMsP95: number;
  readonly preMsP50: number;
  readonly postMsP50: number;
  /** In [0, 1]. */
  readonly brightnessMean: number;
  /** In [0, 1]. */
  readonly contrastMean: number;
}

/** Payload of `fleet/v1/{device}/metrics`. */
export interface DeviceMetrics {
  readonly deviceId: string;
  /** >= 1. */
  readonly reportedAtMs: number;
  readonly cameras: readonly CameraMetrics[];
  readonly outboxFrames: number;
  readonly outboxDetections: number;
  readonly syncLagMs: number;
  readonly publishedBatches: number;
}
