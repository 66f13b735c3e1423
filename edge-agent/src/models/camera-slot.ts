import type { CameraAssignment } from '@edgefleet/proto';
import type { CameraConfig, ModelConfig } from '../config/agent-config-schema.js';
import type { CameraModels } from './camera-models.js';
import { emptyCamera, type PersistedCamera } from './model-state-store.js';

/** The model manager's record of one camera. */
export interface CameraSlot {
  readonly camera: CameraConfig;
  /** The configured model: what the camera runs when nothing (else) was assigned. */
  readonly baseline: ModelConfig;
  persisted: PersistedCamera;
  models: CameraModels | null;
  /** Resolves with the camera's models once they are loaded (what its worker waits for). */
  ready: Promise<CameraModels> | null;
  /** Newest assignment not yet taken up. */
  desired: CameraAssignment | null;
  /** Highest revision taken up (applied, being applied, refused). */
  seenRevision: number;
  /** Aborts the fetch of an assignment a newer one replaced. */
  applyAbort: AbortController | null;
  queue: Promise<void>;
  stableTimer: NodeJS.Timeout | null;
  /** An automatic rollback of the primary in progress (loading the previous one). */
  primaryRollback: Promise<void> | null;
}

export function createSlot(options: { camera: CameraConfig; defaultModel: ModelConfig }): CameraSlot {
  const { camera } = options;
  return {
    camera,
    baseline: camera.model ?? options.defaultModel,
    persisted: emptyCamera(camera.id),
    models: null,
    ready: null,
    desired: null,
    seenRevision: 0,
    applyAbort: null,
    queue: Promise.resolve(),
    stableTimer: null,
    primaryRollback: null,
  };
}
