import type { Box } from '@edgefleet/vision';
import type { ImageStatistics } from '../metrics/image-statistics.js';

/** One detection row as it leaves the agent. */
export interface OutboxDetection {
  readonly classId: number;
  readonly label: string;
  readonly score: number;
  /** Source pixels. */
  readonly box: Box;
  /** Only for a detection of another model than its frame's (shadow mode); absent: the frame's. */
  readonly modelId?: string;
  readonly modelVersion?: string;
  readonly arm?: string;
}

/** One processed frame and its detections, written in one transaction. */
export interface OutboxFrame {
  readonly cameraId: string;
  readonly frameId: number;
  readonly timestampMs: number;
  readonly modelId: string;
  readonly modelVersion: string;
  /** A/B arm that produced it: 'primary' or 'candidate' (a split's share of frames). */
  readonly arm: string;
  /** What the frame looked like; absent when not computed (rows written before the stats existed). */
  readonly imageStats?: ImageStatistics;
  readonly detections: readonly OutboxDetection[];
}

/** A stored detection, with its per-camera sequence number. */
export interface StoredDetection extends OutboxDetection {
  readonly rowId: number;
  /** Row id of the frame this detection belongs to. */
  readonly frameRowId: number;
  readonly deviceId: string;
  readonly cameraId: string;
  readonly seq: number;
  readonly frameSeq: number;
  readonly frameId: number;
  readonly timestampMs: number;
  readonly modelId: string;
  readonly modelVersion: string;
  readonly arm: string;
}

export interface StoredFrame {
  readonly rowId: number;
  readonly deviceId: string;
  readonly cameraId: string;
  /** Per-camera frame sequence number. */
  readonly frameSeq: number;
  readonly frameId: number;
  readonly timestampMs: number;
  readonly modelId: string;
  readonly modelVersion: string;
  readonly arm: string;
  readonly detectionCount: number;
  /** Null on rows written before image statistics were stored. */
  readonly imageStats: ImageStatistics | null;
  /** Sequence number range of this frame's detections, or null when none. */
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  /** Accounted size of the frame and its detections (see `estimateFrameBytes`). */
  readonly bytes: number;
}

/** What `append` assigned to one input frame (same order as the input). */
export interface AppendedFrame {
  readonly rowId: number;
  readonly cameraId: string;
  readonly frameSeq: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
}

/** Per-camera part of an eviction: which sequence numbers were lost. */
export interface EvictedRange {
  readonly cameraId: string;
  readonly frames: number;
  readonly detections: number;
  readonly firstFrameSeq: number;
  readonly lastFrameSeq: number;
}

export interface EvictionEvent {
  /** 'bounds': maxRows/maxBytes reached during append; 'manual': `evictOldest` (e.g. after a disk-full error). */
  readonly reason: 'bounds' | 'manual';
  readonly frames: number;
  readonly detections: number;
  readonly bytes: number;
  readonly cameras: readonly EvictedRange[];
}

export interface AppendResult {
  readonly frames: readonly AppendedFrame[];
  /** Eviction done by this append to stay within bounds, or null when nothing was evicted. */
  readonly evicted: EvictionEvent | null;
}

export interface PeekResult {
  readonly frames: StoredFrame[];
  /** Detections of the returned frames, in (frame, seq) order. */
  readonly detections: StoredDetection[];
}

export interface OutboxStats {
  readonly frames: number;
  readonly detections: number;
  readonly bytes: number;
  /** Rows evicted because the outbox was full, since the outbox was created (persisted). */
  readonly evictedFrames: number;
  readonly evictedDetections: number;
}

export type EvictionListener = (event: EvictionEvent) => void;

/** Durable store-and-forward queue between detection and sync. */
export interface Outbox {
  /**
   * Appends frames (each with its detections) in one transaction, evicting the oldest frames first
   * when the bounds would be exceeded; returns the assigned sequence numbers.
   * Throws EDGE_ERR_OUTBOX (with the SQLite code) on storage errors; nothing is written then.
   */
  append(frames: readonly OutboxFrame[]): AppendResult;
  /** Oldest frames first (after `afterRowId` when given), with their detections, for the sync worker. */
  peekFrames(limit: number, afterRowId?: number): PeekResult;
  /** Deletes acknowledged frames (and their detections) by frame row id; returns how many frames were deleted. */
  ack(frameRowIds: readonly number[]): number;
  /** Evicts up to `frames` oldest frames and counts them as lost (the caller's answer to a disk-full error). */
  evictOldest(frames: number): EvictionEvent | null;
  /** Highest detection sequence number handed out for the camera, 0 if none (continues across restarts). */
  lastSeq(cameraId: string): number;
  /** Highest frame sequence number handed out for the camera, 0 if none. */
  lastFrameSeq(cameraId: string): number;
  /**
   * Makes every committed row durable against power loss (WAL checkpoint with fsync). The sync worker
   * calls it before publishing, so sequence numbers the broker has seen can never be rolled back.
   */
  checkpoint(): void;
  stats(): OutboxStats;
  /** Subscribes to evictions; returns the unsubscribe function. */
  onEvicted(listener: EvictionListener): () => void;
  close(): void;
}
