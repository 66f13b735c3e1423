import type { RgbFrame } from '@edgefleet/vision';

/** Lifecycle state of one camera's capture, as shown in status and metrics. */
export type CameraState = 'starting' | 'running' | 'reconnecting' | 'failed' | 'stopped';

export interface CameraStatus {
  readonly cameraId: string;
  readonly state: CameraState;
  /** Human-readable last error with its code, or null. */
  readonly lastError: string | null;
  readonly lastErrorAt: number | null;
  /** Number of (re)starts after the first. */
  readonly restarts: number;
  readonly framesCaptured: number;
  /** Frames overwritten in the latest-frame slot (or dropped by the sink) because the detector was busy. */
  readonly framesDropped: number;
  readonly lastFrameAt: number | null;
}

/** A frame handed from capture to detection, with capture bookkeeping. */
export interface CapturedFrame {
  readonly frame: RgbFrame;
  /** Per-source frame counter (monotonic within one process run). */
  readonly frameId: number;
  /** Wall-clock capture time in ms since epoch. */
  readonly timestampMs: number;
}

/**
 * The seam between a camera and the detector. Implementations keep at most one pending frame
 * (latest-frame policy) and handle reconnects themselves; `next()` resolves with the newest frame
 * or null once the source has finished for good (end of a non-looping file, or stop()).
 */
export interface FrameSource {
  readonly cameraId: string;
  start(signal: AbortSignal): Promise<void>;
  next(): Promise<CapturedFrame | null>;
  status(): CameraStatus;
  stop(): Promise<void>;
}
