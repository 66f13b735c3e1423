import { CAMERA_STATES, MAX_ERROR_TEXT_LENGTH, type CameraState, type CameraStatus } from '@edgefleet/proto';
import type { CameraWorker } from '../agent/camera-worker.js';

/** What the agent knows about one camera, for the DeviceStatus it publishes. */
export interface CameraReportInput {
  readonly status: ReturnType<CameraWorker['status']>;
  readonly fps?: number;
  readonly modelId?: string;
  readonly modelVersion?: string;
  /** Execution provider actually used. */
  readonly provider?: string;
}

const WIRE_STATES: ReadonlySet<string> = new Set(CAMERA_STATES);

/**
 * One camera's wire status: the worker's terminal states (finished, failed) win over the capture state,
 * which says more while the camera runs (starting, reconnecting).
 */
export function toCameraStatus(input: CameraReportInput): CameraStatus {
  const { status } = input;
  const capture = status.capture;
  const state: CameraState =
    status.state === 'finished' || status.state === 'failed'
      ? status.state
      : WIRE_STATES.has(capture.state)
        ? (capture.state as CameraState)
        : 'stopped';
  const lastError = capture.lastError ?? status.error ?? '';
  return {
    cameraId: capture.cameraId,
    state,
    lastError:
      lastError.length > MAX_ERROR_TEXT_LENGTH ? `${lastError.slice(0, MAX_ERROR_TEXT_LENGTH - 3)}...` : lastError,
    lastErrorAtMs: Math.max(0, Math.round(capture.lastErrorAt ?? 0)),
    restarts: capture.restarts,
    framesCaptured: capture.framesCaptured,
    framesDropped: capture.framesDropped,
    framesProcessed: status.framesProcessed,
    fps: Number.isFinite(input.fps) && (input.fps as number) >= 0 ? (input.fps as number) : 0,
    modelId: input.modelId ?? '',
    modelVersion: input.modelVersion ?? '',
    provider: input.provider ?? '',
  };
}
