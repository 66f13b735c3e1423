import {
  MAX_ERROR_TEXT_LENGTH,
  MAX_TEXT_LENGTH,
  type ModelArm,
  type ModelState,
  type ModelStatusReport,
} from '@edgefleet/proto';
import { describeError } from '../errors.js';
import type { CameraSlot } from './camera-slot.js';
import type { CameraRouting, ModelIdentity } from './camera-models.js';
import type { ModelManagerDeps } from './manager-context.js';
import type { PersistedCamera } from './model-state-store.js';

export type ReportListener = (report: ModelStatusReport) => void;

/** One model status report: what a camera's arm does with which model, for which revision. */
export interface ModelReport {
  readonly slot: CameraSlot;
  readonly model: Pick<ModelIdentity, 'modelId' | 'version' | 'sha256'>;
  readonly arm: ModelArm;
  readonly state: ModelState;
  readonly revision: number;
  readonly reason?: string;
  readonly rolledBackTo?: string;
  readonly bytesDone?: number;
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 3)}...` : text);

/**
 * What the manager writes down: the per-camera state on disk, the models now serving (to the observer)
 * and every status report (to the control plane, the observer and `onReport` listeners).
 */
export class ModelBookkeeping {
  private readonly listeners = new Set<ReportListener>();

  constructor(
    private readonly deps: Pick<ModelManagerDeps, 'deviceId' | 'logger' | 'control' | 'observer'> & {
      readonly now: () => number;
    },
  ) {}

  onReport(listener: ReportListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  clearListeners(): void {
    this.listeners.clear();
  }

  persist(slot: CameraSlot, next: PersistedCamera): void {
    slot.persisted = next;
    try {
      this.deps.control?.state.save(next);
    } catch (err) {
      this.deps.logger.error('model state not saved', { camera: slot.camera.id, error: describeError(err) });
    }
  }

  announce(slot: CameraSlot, r: CameraRouting): void {
    const o = this.deps.observer;
    if (!o?.modelActive) return;
    o.modelActive(slot.camera.id, 'primary', r.primary.identity);
    o.modelActive(slot.camera.id, 'candidate', r.candidate && r.mode === 'split' ? r.candidate.identity : null);
    o.modelActive(slot.camera.id, 'shadow', r.candidate && r.mode === 'shadow' ? r.candidate.identity : null);
  }

  report(r: ModelReport): void {
    const report: ModelStatusReport = {
      deviceId: this.deps.deviceId,
      cameraId: r.slot.camera.id,
      sha256: r.model.sha256,
      modelId: clip(r.model.modelId, MAX_TEXT_LENGTH),
      version: clip(r.model.version, MAX_TEXT_LENGTH),
      arm: r.arm,
      state: r.state,
      reason: clip(r.reason ?? '', MAX_ERROR_TEXT_LENGTH),
      revision: r.revision,
      atMs: Math.max(1, Math.round(this.deps.now())),
      rolledBackTo: r.rolledBackTo ?? '',
      bytesDone: r.bytesDone ?? 0,
    };
    if (r.state !== 'downloading') this.deps.logger.debug('model status', { ...report });
    this.deps.control?.reporter.push(report);
    this.deps.observer?.modelReport?.(report);
    this.notify(report);
  }

  private notify(report: ModelStatusReport): void {
    for (const listener of this.listeners) {
      try {
        listener(report);
      } catch (err) {
        this.deps.logger.warn('model report listener failed', { error: describeError(err) });
      }
    }
  }
}
