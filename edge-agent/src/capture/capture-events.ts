/**
 * Typed events of a frame source. Listeners are owned by the source and removed on stop().
 */
import { EventEmitter } from 'node:events';
import type { EdgeErrorCode } from '../errors.js';
import type { CameraStatus } from './frame-source.js';

export interface CaptureFailureEvent {
  readonly cameraId: string;
  readonly code: EdgeErrorCode;
  /** `CODE: message` as shown in status. */
  readonly message: string;
  /** Delay before the next attempt in ms, or null when the source gave up (state 'failed'). */
  readonly restartInMs: number | null;
}

export interface CaptureEventMap {
  /** Every state change (starting, running, reconnecting, failed, stopped) and restart. */
  status: [status: CameraStatus];
  /** A run failed (pipeline error, stall, end of a live stream). */
  failure: [event: CaptureFailureEvent];
}

export class CaptureEvents extends EventEmitter<CaptureEventMap> {}
