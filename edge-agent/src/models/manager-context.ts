import type { Clock } from '@edgefleet/service-kit';
import type { ModelArm, ModelStatusReport, RollbackPolicy } from '@edgefleet/proto';
import type { CameraConfig, ModelConfig } from '../config/agent-config-schema.js';
import type { ControlSettings } from '../control/control-settings.js';
import type { StatusReporter } from '../control/status-reporter.js';
import type { Logger } from '@edgefleet/service-kit';
import type { ModelIdentity } from './camera-models.js';
import type { DetectorPool } from './detector-pool.js';
import type { ModelBookkeeping } from './model-bookkeeping.js';
import type { CameraSlot } from './camera-slot.js';
import type { ModelStateStore } from './model-state-store.js';
import type { ModelStore } from './model-store.js';

/** Why a model was rolled back, as the rollback metric labels it. */
export type RollbackKind = 'error_rate' | 'latency' | 'crash_loop' | 'commanded';

/** Hooks for metrics; called synchronously, must not throw. */
export interface ModelObserver {
  modelReport?(report: ModelStatusReport): void;
  modelRollback?(cameraId: string, kind: RollbackKind): void;
  /** The model now serving an arm of a camera (null: none on that arm). */
  modelActive?(cameraId: string, arm: ModelArm, model: ModelIdentity | null): void;
}

/** The control-plane side of the manager; absent, cameras run their configured model only. */
export interface ManagedControl {
  readonly settings: Pick<ControlSettings, 'keepVersions' | 'warmupRuns' | 'rollback'>;
  readonly store: ModelStore;
  readonly state: ModelStateStore;
  readonly reporter: StatusReporter;
}

export interface ModelManagerDeps {
  readonly deviceId: string;
  /** Enabled cameras. */
  readonly cameras: readonly CameraConfig[];
  /** The top-level configured model (cameras without their own run it). */
  readonly model: ModelConfig;
  readonly pool: DetectorPool;
  readonly logger: Logger;
  readonly control: ManagedControl | null;
  readonly observer?: ModelObserver;
  /** Wall clock (the agent's one Clock). */
  readonly clock: Clock;
}

/** What the manager's parts (boot, loading, assignments, rollback, bookkeeping) share. */
export interface ManagerContext {
  readonly deps: ModelManagerDeps;
  /** One per enabled camera, filled by `start`. */
  readonly slots: Map<string, CameraSlot>;
  readonly book: ModelBookkeeping;
  /** Set by `stop`: no new work starts, work in flight drops its result. */
  readonly run: { stopping: boolean; cleanStop: boolean };
  now(): number;
  /** An assignment's policy with the configured defaults where it says 0. */
  policy(p: RollbackPolicy | null | undefined): RollbackPolicy;
}
