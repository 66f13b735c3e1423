import type { ImageStats } from '@edgefleet/proto';
import type { RegistryStore } from './registry-store.js';

/**
 * The control plane's storage seam. Two implementations run the same SQL (sql-store.ts): PostgreSQL
 * through a `pg` pool and embedded PGlite; one conformance suite (test/store-conformance.ts) runs
 * against both.
 */

/** One processed frame as stored (idempotency key: device, camera, frameSeq). */
export interface FrameRow {
  readonly deviceId: string;
  readonly cameraId: string;
  readonly frameSeq: number;
  readonly frameId: number;
  /** Capture time, ms since the Unix epoch. */
  readonly tsMs: number;
  readonly modelId: string;
  readonly modelVersion: string;
  readonly arm: string;
  readonly detectionCount: number;
  /** What the frame looked like (see fleet.v1.ImageStats); absent or undefined: the agent sent none. */
  readonly imageStats?: ImageStats | undefined;
}

/** One detection as stored (idempotency key: device, camera, seq); `tsMs` is its frame's capture time. */
export interface DetectionRow {
  readonly deviceId: string;
  readonly cameraId: string;
  readonly seq: number;
  readonly frameSeq: number;
  readonly tsMs: number;
  readonly modelId: string;
  readonly modelVersion: string;
  readonly arm: string;
  readonly classId: number;
  readonly label: string;
  readonly score: number;
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

export interface InsertResult {
  readonly insertedFrames: number;
  readonly insertedDetections: number;
  /** Rows already present (frames plus detections), skipped by ON CONFLICT DO NOTHING. */
  readonly duplicates: number;
}

export interface CountFilter {
  readonly deviceId?: string;
  readonly cameraId?: string;
}

/** Sequence numbers stored for one camera: gapless and duplicate-free when rows = distinct = max - min + 1. */
export interface SequenceSummary {
  readonly rows: number;
  readonly distinct: number;
  readonly min: number | null;
  readonly max: number | null;
}

export interface DeviceRecord {
  readonly id: string;
  /** False for devices only seen through telemetry (external broker) and never enrolled here. */
  readonly enrolled: boolean;
  readonly enrolledAt: number | null;
  readonly lastSeen: number | null;
  readonly online: boolean;
  /** Last DeviceStatus as JSON, or null. */
  readonly status: unknown;
  readonly metrics: unknown;
  /** What the agent said about itself in its last WatchAssignments request (null before the first). */
  readonly agentVersion: string | null;
  readonly hardware: string | null;
  readonly providers: readonly string[];
}

export interface DeviceStatusUpdate {
  readonly deviceId: string;
  readonly online: boolean;
  readonly status: unknown;
  /** When the control plane received it (ms). */
  readonly seenAt: number;
}

export interface DeviceMetricsUpdate {
  readonly deviceId: string;
  readonly metrics: unknown;
  readonly seenAt: number;
}

export interface PartitionInfo {
  readonly table: 'frames' | 'detections';
  readonly name: string;
  /** `YYYY-MM-DD` (UTC) for a day partition, null for the default partition. */
  readonly day: string | null;
}

export interface Store {
  /** Which implementation, for logs and the start banner. */
  readonly kind: 'postgres' | 'pglite';
  /** The model registry, assignments, model status and audit log, on the same database. */
  readonly registry: RegistryStore;
  /** A trivial round trip (health checks); throws CP_ERR_STORAGE when the database does not answer. */
  ping(): Promise<void>;
  /** Applies pending migrations in one transaction; returns the versions applied now. */
  migrate(): Promise<number[]>;
  /**
   * Inserts frames and detections in one transaction with ON CONFLICT DO NOTHING on the idempotency keys.
   * Throws CP_ERR_STORAGE (cause: the driver error, with its SQLSTATE `code`) and writes nothing then.
   */
  insertBatch(frames: readonly FrameRow[], detections: readonly DetectionRow[]): Promise<InsertResult>;
  /** Most recent detections of one camera, newest first (by sequence number, i.e. capture order). */
  recentDetections(deviceId: string, cameraId: string, limit: number): Promise<DetectionRow[]>;
  /** Most recent frames of one camera, newest first (by frame sequence number), with their image statistics. */
  recentFrames(deviceId: string, cameraId: string, limit: number): Promise<FrameRow[]>;
  countDetections(filter?: CountFilter): Promise<number>;
  countFrames(filter?: CountFilter): Promise<number>;
  /** Audit of one camera's sequence numbers (loss and duplicate checks). */
  sequenceSummary(kind: 'frames' | 'detections', deviceId: string, cameraId: string): Promise<SequenceSummary>;

  /** Registers a device with its credential hash. Throws CP_ERR_DEVICE_EXISTS when enrolled and `replace` is false. */
  enrolDevice(deviceId: string, credentialHash: string, options?: { replace?: boolean }): Promise<void>;
  /** The stored credential hash, or null when the device is unknown or not enrolled. */
  deviceCredential(deviceId: string): Promise<string | null>;
  getDevice(deviceId: string): Promise<DeviceRecord | null>;
  listDevices(): Promise<DeviceRecord[]>;
  /** Records a status report (creates the device row for devices only seen through telemetry). */
  updateDeviceStatus(update: DeviceStatusUpdate): Promise<void>;
  updateDeviceMetrics(update: DeviceMetricsUpdate): Promise<void>;

  /** Creates the day partitions [fromDay, fromDay + days) of frames and detections that do not exist yet; returns their names. */
  ensurePartitions(fromDay: string, days: number): Promise<string[]>;
  /** Drops day partitions of days before `day` and deletes older rows from the default partitions; returns the dropped names. */
  dropPartitionsOlderThan(day: string): Promise<string[]>;
  listPartitions(): Promise<PartitionInfo[]>;
  close(): Promise<void>;
}
