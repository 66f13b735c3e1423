import {
  MAX_ERROR_TEXT_LENGTH,
  MAX_TEXT_LENGTH,
  type AssignmentSnapshot,
  type CameraAssignment,
  type ModelArm,
  type ModelDescriptor,
  type ModelState,
  type ModelStatusReport,
  type RollbackPolicy,
} from '@edgefleet/proto';
import type { OnnxDetectorOptions } from '@edgefleet/vision';
import type { CameraConfig, ModelConfig, RollbackDefaults } from '../config/agent-config-schema.js';
import type { ControlSettings } from '../control/control-settings.js';
import type { StatusReporter } from '../control/status-reporter.js';
import { EdgeError, describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { ModelRejectedError } from './artifact-verifier.js';
import { CameraModels, type ActiveModel, type CameraRouting, type ModelIdentity } from './camera-models.js';
import type { DetectorPool } from './detector-pool.js';
import { ModelHealth, type Breach } from './model-health.js';
import {
  candidateArm,
  emptyCamera,
  type Activation,
  type ModelStateStore,
  type PersistedCamera,
} from './model-state-store.js';
import type { ModelStore } from './model-store.js';
import { warmUp } from './warm-up.js';

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
  /** Wall clock, ms; default Date.now. */
  readonly now?: () => number;
}

export type ReportListener = (report: ModelStatusReport) => void;

interface Slot {
  readonly camera: CameraConfig;
  /** The configured model: what the camera runs when nothing (else) was assigned. */
  readonly baseline: ModelConfig;
  persisted: PersistedCamera;
  models: CameraModels | null;
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

/** What a camera runs after boot, and what boot had to undo. */
interface BootRollback {
  readonly failing: ModelDescriptor;
  readonly arm: ModelArm;
  readonly reason: string;
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 3)}...` : text);

function identityOf(d: ModelDescriptor): ModelIdentity {
  return { modelId: d.modelId, version: d.version, sha256: d.sha256, serial: d.serial, baseline: false };
}

/**
 * Per-camera model lifecycle (docs/architecture.md §6 "Model manager", "A/B"):
 *
 * - **Boot**: each camera starts on its persisted models (primary, candidate) from the model store on disk,
 *   whether or not the control plane is reachable; the configured model is the baseline when nothing was
 *   ever assigned (or what was assigned cannot load). A crash loop after an activation (N boots without a
 *   clean stop within T seconds) boots the previous model instead and reports `rolled_back`.
 * - **Assignment**: a newer revision for a camera → download (resumable) → verify (size, sha256, signature
 *   with the pinned key) → load beside the running session → warm up → swap between two frames → report
 *   `active`. Any failure reports `failed` with the reason while the old model keeps serving. A primary
 *   with a lower serial than the running one is refused unless the assignment is a rollback.
 * - **Automatic rollback**: an activated model whose error rate or p95 latency breaks its policy is rolled
 *   back (a candidate is removed; a primary is replaced by the previous primary, reloaded from disk) and the
 *   rollback is reported with its reason.
 *
 * Detection never waits for any of this: cameras read their routing at the start of each frame.
 */
export class ModelManager {
  private readonly slots = new Map<string, Slot>();
  private readonly listeners = new Set<ReportListener>();
  private readonly warned = new Set<string>();
  private cleanStop = true;
  private stopping = false;

  constructor(private readonly deps: ModelManagerDeps) {
    for (const camera of deps.cameras) {
      this.slots.set(camera.id, {
        camera,
        baseline: camera.model ?? deps.model,
        persisted: emptyCamera(camera.id),
        models: null,
        desired: null,
        seenRevision: 0,
        applyAbort: null,
        queue: Promise.resolve(),
        stableTimer: null,
        primaryRollback: null,
      });
    }
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Every status report the manager makes (also without a control plane); returns the unsubscribe function. */
  onReport(listener: ReportListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Loads every camera's models. Resolves per camera (a camera whose models cannot load fails alone):
   * the map's promises are what the camera workers wait for.
   */
  boot(): Map<string, Promise<CameraModels>> {
    const control = this.deps.control;
    let persisted = new Map<string, PersistedCamera>();
    if (control) {
      this.cleanStop = control.state.markRunning().cleanStop;
      persisted = control.state.load();
    }
    const out = new Map<string, Promise<CameraModels>>();
    for (const slot of this.slots.values()) {
      const p = persisted.get(slot.camera.id);
      if (p) {
        slot.persisted = p;
        slot.seenRevision = p.revision;
      }
      const ready = this.bootCamera(slot);
      // Each camera worker reports its own failure; nothing else awaits this promise.
      ready.catch(() => undefined);
      out.set(slot.camera.id, ready);
    }
    return out;
  }

  /** Highest assignment revision this agent has handled (the watch's known_revision). */
  knownRevision(): number {
    let revision = 0;
    for (const slot of this.slots.values()) revision = Math.max(revision, slot.persisted.revision);
    return revision;
  }

  /** Execution providers of the loaded primaries. */
  providers(): string[] {
    const out = new Set<string>();
    for (const slot of this.slots.values()) {
      const p = slot.models?.current().primary;
      if (p) out.add(p.handle.detector.info.provider);
    }
    return [...out];
  }

  // ---- boot -------------------------------------------------------------------------------------

  private async bootCamera(slot: Slot): Promise<CameraModels> {
    const rollback = this.crashLoopCheck(slot);
    const p = slot.persisted;
    const policy = this.policy(p.policy);
    let primary: ActiveModel | null = null;
    const tried: ModelDescriptor[] = [];
    for (const d of [p.primary, p.previous]) {
      if (!d || tried.some((t) => t.sha256 === d.sha256)) continue;
      tried.push(d);
      try {
        primary = await this.loadFromDisk(slot, d, policy);
        break;
      } catch (err) {
        this.report(slot, d, 'primary', 'failed', p.revision, { reason: `cannot boot on it: ${describeError(err)}` });
      }
    }
    if (!primary) primary = await this.loadBaseline(slot);
    let candidate: ActiveModel | null = null;
    if (p.candidate) {
      try {
        candidate = await this.loadFromDisk(slot, p.candidate, policy);
      } catch (err) {
        this.report(slot, p.candidate, candidateArm(p.candidateMode), 'failed', p.revision, {
          reason: `cannot boot on it: ${describeError(err)}`,
        });
      }
    }
    const booted: PersistedCamera = {
      ...p,
      primary: primary.identity.baseline ? null : (tried.find((d) => d.sha256 === primary.identity.sha256) ?? null),
      previous: p.primary && primary.identity.sha256 === p.primary.sha256 ? p.previous : null,
      candidate: candidate ? p.candidate : null,
      candidateMode: candidate ? p.candidateMode : null,
      splitBasisPoints: candidate ? p.splitBasisPoints : 0,
    };
    this.persist(slot, booted);
    const routing: CameraRouting = {
      primary,
      candidate,
      mode: candidate ? booted.candidateMode : null,
      splitBasisPoints: booted.splitBasisPoints,
      revision: booted.revision,
    };
    const models = new CameraModels(slot.camera.id, routing);
    primary.handle.release();
    candidate?.handle.release();
    models.onBreach((model, arm, breach) => this.onBreach(slot, model, arm, breach));
    slot.models = models;
    this.announce(slot, routing);
    if (rollback) {
      // Either way the camera now serves its primary: the previous one, or the same one without the candidate.
      const to = primary.identity.sha256;
      this.deps.logger.error('model rolled back at boot', {
        camera: slot.camera.id,
        model: rollback.failing.modelId,
        version: rollback.failing.version,
        reason: rollback.reason,
      });
      this.report(slot, rollback.failing, rollback.arm, 'rolled_back', p.revision, {
        reason: rollback.reason,
        rolledBackTo: to,
      });
      this.deps.observer?.modelRollback?.(slot.camera.id, 'crash_loop');
    }
    this.scheduleStable(slot);
    return models;
  }

  /** The crash-loop rule, applied to the persisted state before anything loads. */
  private crashLoopCheck(slot: Slot): BootRollback | null {
    const p = slot.persisted;
    const act = p.activation;
    if (!this.deps.control || !act || act.stable) return null;
    const policy = this.policy(p.policy);
    if (this.now() - act.atMs >= policy.crashLoopWindowS * 1000) {
      this.persist(slot, { ...p, activation: { ...act, stable: true, boots: 0 } });
      return null;
    }
    if (this.cleanStop) return null;
    const boots = act.boots + 1;
    if (boots < policy.crashLoopRestarts) {
      this.persist(slot, { ...p, activation: { ...act, boots } });
      this.deps.logger.warn('restart soon after a model activation', {
        camera: slot.camera.id,
        boots,
        of: policy.crashLoopRestarts,
        windowS: policy.crashLoopWindowS,
      });
      return null;
    }
    const reason = `crash loop: ${boots} restarts within ${policy.crashLoopWindowS} s`;
    if (act.arm === 'candidate' && p.candidate) {
      this.persist(slot, { ...p, candidate: null, candidateMode: null, splitBasisPoints: 0, activation: null });
      return { failing: p.candidate, arm: candidateArm(p.candidateMode), reason };
    }
    if (act.arm === 'primary' && p.primary) {
      this.persist(slot, { ...p, primary: p.previous, previous: null, activation: null });
      return { failing: p.primary, arm: 'primary', reason };
    }
    this.persist(slot, { ...p, activation: null });
    return null;
  }

  /** An activation that survives its crash-loop window is stable: later restarts do not count against it. */
  private scheduleStable(slot: Slot): void {
    if (slot.stableTimer) clearTimeout(slot.stableTimer);
    slot.stableTimer = null;
    const act = slot.persisted.activation;
    if (!act || act.stable || !this.deps.control) return;
    const remaining = this.policy(slot.persisted.policy).crashLoopWindowS * 1000 - (this.now() - act.atMs);
    slot.stableTimer = setTimeout(
      () => {
        slot.stableTimer = null;
        const current = slot.persisted.activation;
        if (current && current.atMs === act.atMs && !this.stopping) {
          this.persist(slot, { ...slot.persisted, activation: { ...current, stable: true, boots: 0 } });
          this.deps.logger.info('model activation stable', { camera: slot.camera.id, sha256: current.sha256 });
        }
      },
      Math.max(0, remaining),
    );
    slot.stableTimer.unref();
  }

  // ---- loading ----------------------------------------------------------------------------------

  private loadOptions(slot: Slot, forAssigned: boolean): OnnxDetectorOptions {
    const m = slot.baseline;
    return {
      providers: m.providers,
      tensorrtFp16: m.tensorrtFp16,
      engineCacheDir: m.engineCacheDir,
      thread: m.inferenceThread,
      // One session on the event loop's thread; `auto` there means that one.
      replicas: m.inferenceThread === 'worker' ? m.sessions : 1,
      logger: this.deps.logger,
      // Adapter and letterbox overrides belong to the configured file; assigned models are recognised.
      ...(forAssigned ? {} : { adapter: m.adapter === 'auto' ? undefined : m.adapter, letterbox: m.letterbox }),
    };
  }

  private async loadBaseline(slot: Slot): Promise<ActiveModel> {
    const m = slot.baseline;
    const key = `config:${JSON.stringify([m.path, m.adapter, m.providers, m.letterbox, m.tensorrtFp16, m.inferenceThread, m.sessions])}`;
    const handle = await this.deps.pool.acquire(key, m.path, this.loadOptions(slot, false));
    return {
      handle,
      identity: {
        modelId: m.id ?? m.path,
        version: m.version ?? 'local',
        sha256: handle.detector.info.sha256,
        serial: 0,
        baseline: true,
      },
      health: null,
    };
  }

  /** Loads an assigned artifact already on disk and warms it up. Throws when it is not there or fails. */
  private async loadFromDisk(
    slot: Slot,
    d: ModelDescriptor,
    policy: RollbackPolicy,
    onWarming?: () => void,
  ): Promise<ActiveModel> {
    const control = this.deps.control;
    if (!control) throw new EdgeError('EDGE_ERR_MODEL_NOT_FOUND', 'no model store without a control section');
    if (!control.store.has(d.sha256))
      throw new EdgeError(
        'EDGE_ERR_MODEL_NOT_FOUND',
        `${d.modelId} ${d.version} (${d.sha256}) is not in the model store`,
      );
    const m = slot.baseline;
    const key = `artifact:${d.sha256}:${JSON.stringify([m.providers, m.tensorrtFp16, m.inferenceThread, m.sessions])}`;
    const handle = await this.deps.pool.acquire(key, control.store.pathOf(d.sha256), this.loadOptions(slot, true));
    try {
      if (handle.detector.info.sha256 !== d.sha256) {
        // The file changed on disk after it was verified: never serve it, and let it be fetched again.
        control.store.remove(d.sha256);
        throw new ModelRejectedError(
          'tampered',
          `tampered: the stored file hashes to ${handle.detector.info.sha256}, not ${d.sha256}`,
        );
      }
      onWarming?.();
      await warmUp(handle.detector, control.settings.warmupRuns);
    } catch (err) {
      handle.release();
      throw err;
    }
    control.store.touch(d.sha256);
    return { handle, identity: identityOf(d), health: new ModelHealth(policy) };
  }

  /** The assignment's policy with the configured defaults where it says 0. */
  private policy(p: RollbackPolicy | null | undefined): RollbackPolicy {
    const d: RollbackDefaults = this.deps.control?.settings.rollback ?? {
      maxErrorRate: 0.1,
      errorWindowFrames: 100,
      p95LatencyBudgetMs: 0,
      latencyWindowFrames: 100,
      crashLoopRestarts: 3,
      crashLoopWindowS: 300,
    };
    const pick = (v: number | undefined, fallback: number) => (v !== undefined && v > 0 ? v : fallback);
    return {
      maxErrorRate: pick(p?.maxErrorRate, d.maxErrorRate),
      errorWindowFrames: pick(p?.errorWindowFrames, d.errorWindowFrames),
      p95LatencyBudgetMs: pick(p?.p95LatencyBudgetMs, d.p95LatencyBudgetMs),
      latencyWindowFrames: pick(p?.latencyWindowFrames, d.latencyWindowFrames),
      crashLoopRestarts: pick(p?.crashLoopRestarts, d.crashLoopRestarts),
      crashLoopWindowS: pick(p?.crashLoopWindowS, d.crashLoopWindowS),
    };
  }

  // ---- assignments ------------------------------------------------------------------------------

  /** A snapshot from the control plane: every camera with a newer revision is (re)applied in the background. */
  handleSnapshot(snapshot: AssignmentSnapshot): void {
    if (this.stopping) return;
    for (const a of snapshot.cameras) {
      const slot = this.slots.get(a.cameraId);
      if (!slot) {
        if (!this.warned.has(a.cameraId)) {
          this.warned.add(a.cameraId);
          this.deps.logger.warn('assignment for a camera this agent does not run', {
            camera: a.cameraId,
            revision: a.revision,
          });
        }
        continue;
      }
      if (a.revision <= slot.seenRevision) continue;
      slot.seenRevision = a.revision;
      slot.desired = a;
      // A newer assignment replaces one still downloading.
      slot.applyAbort?.abort();
      this.enqueue(slot, () => this.applyDesired(slot));
    }
  }

  private enqueue(slot: Slot, task: () => Promise<void>): void {
    slot.queue = slot.queue.then(task).catch((err: unknown) => {
      this.deps.logger.error('model manager task failed', { camera: slot.camera.id, error: describeError(err) });
    });
  }

  private async applyDesired(slot: Slot): Promise<void> {
    const a = slot.desired;
    if (!a || this.stopping) return;
    slot.desired = null;
    // A camera whose models never loaded (its baseline failed) cannot take assignments.
    if (!slot.models) {
      this.deps.logger.warn('assignment ignored: the camera has no running model', {
        camera: slot.camera.id,
        revision: a.revision,
      });
      return;
    }
    const abort = new AbortController();
    slot.applyAbort = abort;
    try {
      await this.apply(slot, slot.models, a, abort.signal);
    } finally {
      if (slot.applyAbort === abort) slot.applyAbort = null;
    }
  }

  private superseded(slot: Slot): boolean {
    return this.stopping || slot.desired !== null;
  }

  private async apply(slot: Slot, models: CameraModels, a: CameraAssignment, signal: AbortSignal): Promise<void> {
    const log = this.deps.logger.child({ camera: slot.camera.id, revision: a.revision });
    const cur = models.current();
    const candArm = candidateArm(a.candidateMode ?? null);
    const primaryChanges = a.primary.sha256 !== cur.primary.identity.sha256;
    const candidateChanges = a.candidate !== undefined && a.candidate.sha256 !== cur.candidate?.identity.sha256;
    const policy = this.policy(a.policy);
    log.info('assignment received', {
      primary: `${a.primary.modelId} ${a.primary.version}`,
      candidate: a.candidate
        ? `${a.candidate.modelId} ${a.candidate.version} (${a.candidateMode}${a.candidateMode === 'split' ? ` ${a.splitBasisPoints / 100} %` : ''})`
        : null,
      rollback: a.rollback,
      reason: a.reason,
    });
    if (primaryChanges) this.report(slot, a.primary, 'primary', 'received', a.revision);
    if (a.candidate && candidateChanges) this.report(slot, a.candidate, candArm, 'received', a.revision);

    // docs/architecture.md §7: no downgrade unless it is an explicit rollback.
    if (primaryChanges && !a.rollback && a.primary.serial < cur.primary.identity.serial) {
      const reason = `downgrade refused: serial ${a.primary.serial} (${a.primary.modelId} ${a.primary.version}) is older than the running serial ${cur.primary.identity.serial} (${cur.primary.identity.modelId} ${cur.primary.identity.version}); only a rollback assignment may go back`;
      log.warn('assignment refused', { error: describeError(new EdgeError('EDGE_ERR_MODEL_DOWNGRADE', reason)) });
      this.report(slot, a.primary, 'primary', 'failed', a.revision, { reason });
      this.persist(slot, { ...slot.persisted, revision: a.revision });
      return;
    }

    let newPrimary: ActiveModel | null = null;
    if (primaryChanges) {
      try {
        newPrimary = await this.prepare(slot, a.primary, 'primary', a.revision, policy, signal);
      } catch (err) {
        if (this.superseded(slot)) return;
        this.refused(slot, a.primary, 'primary', a.revision, err);
        this.persist(slot, { ...slot.persisted, revision: a.revision });
        return;
      }
      if (this.superseded(slot)) {
        newPrimary.handle.release();
        return;
      }
    }
    let newCandidate: ActiveModel | null = null;
    if (a.candidate && candidateChanges) {
      try {
        newCandidate = await this.prepare(slot, a.candidate, candArm, a.revision, policy, signal);
      } catch (err) {
        if (this.superseded(slot)) {
          newPrimary?.handle.release();
          return;
        }
        this.refused(slot, a.candidate, candArm, a.revision, err);
      }
      if (this.superseded(slot)) {
        newPrimary?.handle.release();
        newCandidate?.handle.release();
        return;
      }
    }

    // Swap: parts this assignment does not change are taken from the routing as it is now (an automatic
    // rollback may have happened while the new models loaded).
    const now = models.current();
    const candidate = a.candidate ? (candidateChanges ? newCandidate : now.candidate) : null;
    const next: CameraRouting = {
      primary: newPrimary ?? now.primary,
      candidate,
      mode: candidate ? (a.candidateMode ?? null) : null,
      splitBasisPoints: candidate && a.candidateMode === 'split' ? a.splitBasisPoints : 0,
      revision: a.revision,
      // A new primary is on probation with the one it replaces as the fallback (not after a commanded
      // rollback: the model it leaves is the one the admin does not want).
      fallback: newPrimary ? (a.rollback || !newPrimary.health ? null : now.primary) : (now.fallback ?? null),
    };
    models.swap(next);
    newPrimary?.handle.release();
    newCandidate?.handle.release();

    const p = slot.persisted;
    // What a rollback of the new primary returns to: the primary it replaces (null: the baseline). A commanded
    // rollback keeps the older fallback instead, so the model it went back from never becomes the fallback.
    let previous = p.previous;
    if (newPrimary && !a.rollback) previous = now.primary.identity.baseline ? null : p.primary;
    else if (newPrimary && previous?.sha256 === a.primary.sha256) previous = null;
    const activation: Activation | null = newPrimary
      ? { arm: 'primary', sha256: a.primary.sha256, atMs: this.now(), boots: 0, stable: false }
      : newCandidate && a.candidate
        ? { arm: 'candidate', sha256: a.candidate.sha256, atMs: this.now(), boots: 0, stable: false }
        : p.activation && (p.activation.arm === 'primary' || candidate)
          ? p.activation
          : null;
    this.persist(slot, {
      cameraId: slot.camera.id,
      revision: a.revision,
      primary: newPrimary ? a.primary : p.primary,
      previous,
      candidate: candidate ? (newCandidate ? (a.candidate as ModelDescriptor) : p.candidate) : null,
      candidateMode: next.mode,
      splitBasisPoints: next.splitBasisPoints,
      policy: a.policy ?? null,
      activation,
    });
    this.scheduleStable(slot);
    this.announce(slot, next);

    this.report(
      slot,
      descriptorOf(next.primary, a.primary),
      'primary',
      'active',
      a.revision,
      a.rollback && newPrimary ? { reason: `rollback: ${a.reason}` } : {},
    );
    if (next.candidate)
      this.report(slot, descriptorOf(next.candidate, a.candidate), candidateArm(next.mode), 'active', a.revision);
    const removedCandidate = cur.candidate !== null && next.candidate === null;
    if (a.rollback && (newPrimary || removedCandidate)) {
      log.warn('commanded rollback applied', {
        to: `${next.primary.identity.modelId} ${next.primary.identity.version}`,
        removedCandidate,
        reason: a.reason,
      });
      this.deps.observer?.modelRollback?.(slot.camera.id, 'commanded');
    }
    log.info('models active', {
      primary: `${next.primary.identity.modelId} ${next.primary.identity.version}`,
      candidate: next.candidate ? `${next.candidate.identity.modelId} ${next.candidate.identity.version}` : null,
      mode: next.mode,
    });
    this.prune();
  }

  /** Fetch (download + verify when not on disk), load beside the running models, warm up: the model, not yet serving. */
  private async prepare(
    slot: Slot,
    d: ModelDescriptor,
    arm: ModelArm,
    revision: number,
    policy: RollbackPolicy,
    signal: AbortSignal,
  ): Promise<ActiveModel> {
    const control = this.deps.control;
    if (!control) throw new EdgeError('EDGE_ERR_CONTROL', 'no control section');
    if (!control.store.has(d.sha256)) {
      let lastProgressAt = 0;
      let lastBytes = -1;
      await control.store.fetch(
        d,
        {
          downloading: (bytes) => {
            const t = this.now();
            // Progress at most 4 times a second, plus the first and the last.
            if (bytes === lastBytes || (t - lastProgressAt < 250 && bytes < d.sizeBytes && lastBytes >= 0)) return;
            lastProgressAt = t;
            lastBytes = bytes;
            this.report(slot, d, arm, 'downloading', revision, { bytesDone: bytes });
          },
          verifying: () => this.report(slot, d, arm, 'verifying', revision),
        },
        signal,
      );
    }
    return await this.loadFromDisk(slot, d, policy, () => this.report(slot, d, arm, 'warming', revision));
  }

  private refused(slot: Slot, d: ModelDescriptor, arm: ModelArm, revision: number, err: unknown): void {
    const reason = err instanceof ModelRejectedError ? err.reason : describeError(err);
    this.deps.logger.warn('model refused; the running model keeps serving', {
      camera: slot.camera.id,
      model: d.modelId,
      version: d.version,
      arm,
      reason,
    });
    this.report(slot, d, arm, 'failed', revision, { reason });
  }

  // ---- automatic rollback -----------------------------------------------------------------------

  private onBreach(slot: Slot, model: ActiveModel, arm: ModelArm, breach: Breach): void {
    const models = slot.models;
    if (!models || this.stopping) return;
    const now = models.current();
    if (now.candidate === model) {
      // A candidate goes at once: the primary is loaded and serving already.
      models.swap({ ...now, candidate: null, mode: null, splitBasisPoints: 0 });
      const p = slot.persisted;
      this.persist(slot, {
        ...p,
        candidate: null,
        candidateMode: null,
        splitBasisPoints: 0,
        activation: p.activation?.arm === 'candidate' ? null : p.activation,
      });
      this.scheduleStable(slot);
      this.announce(slot, models.current());
      this.rolledBack(slot, model, arm, breach.kind, breach.reason, now.primary.identity.sha256);
      return;
    }
    if (now.primary === model && !slot.primaryRollback) {
      slot.primaryRollback = this.rollbackPrimary(slot, models, model, breach)
        .catch((err: unknown) =>
          this.deps.logger.error('rollback failed', { camera: slot.camera.id, error: describeError(err) }),
        )
        .finally(() => {
          slot.primaryRollback = null;
        });
    }
  }

  /** The failing primary keeps the camera until the previous one is loaded (from disk), then they swap. */
  private async rollbackPrimary(slot: Slot, models: CameraModels, failing: ActiveModel, breach: Breach): Promise<void> {
    const target = slot.persisted.previous;
    const policy = this.policy(slot.persisted.policy);
    let next: ActiveModel | null = null;
    // On probation the replaced primary is still loaded: back to it at once, no reload.
    const standby = models.current().fallback;
    if (
      standby &&
      standby.identity.sha256 !== failing.identity.sha256 &&
      (target ? standby.identity.sha256 === target.sha256 : standby.identity.baseline)
    ) {
      standby.handle.retain();
      // Watched afresh from now on, as a model reloaded from disk would be.
      next = {
        handle: standby.handle,
        identity: standby.identity,
        health: standby.health ? new ModelHealth(policy) : null,
      };
    }
    if (!next && target && target.sha256 !== failing.identity.sha256) {
      try {
        next = await this.loadFromDisk(slot, target, policy);
      } catch (err) {
        this.deps.logger.error('previous model cannot load; rolling back to the configured model', {
          camera: slot.camera.id,
          error: describeError(err),
        });
      }
    }
    if (!next && !failing.identity.baseline) {
      try {
        next = await this.loadBaseline(slot);
      } catch (err) {
        this.deps.logger.error('rollback impossible: the configured model cannot load either', {
          camera: slot.camera.id,
          error: describeError(err),
        });
      }
    }
    if (!next) return;
    const now = models.current();
    if (now.primary !== failing || this.stopping) {
      next.handle.release();
      return;
    }
    models.swap({ ...now, primary: next, fallback: null });
    next.handle.release();
    const p = slot.persisted;
    this.persist(slot, {
      ...p,
      primary: next.identity.baseline ? null : target,
      previous: null,
      activation: p.activation?.arm === 'primary' ? null : p.activation,
    });
    this.scheduleStable(slot);
    this.announce(slot, models.current());
    this.rolledBack(slot, failing, 'primary', breach.kind, breach.reason, next.identity.sha256);
    this.prune();
  }

  private rolledBack(
    slot: Slot,
    model: ActiveModel,
    arm: ModelArm,
    kind: RollbackKind,
    reason: string,
    to: string,
  ): void {
    this.deps.logger.error('model rolled back', {
      camera: slot.camera.id,
      model: model.identity.modelId,
      version: model.identity.version,
      arm,
      reason,
      rolledBackTo: to,
    });
    this.report(slot, model.identity, arm, 'rolled_back', slot.persisted.revision, { reason, rolledBackTo: to });
    this.deps.observer?.modelRollback?.(slot.camera.id, kind);
  }

  // ---- bookkeeping ------------------------------------------------------------------------------

  private persist(slot: Slot, next: PersistedCamera): void {
    slot.persisted = next;
    try {
      this.deps.control?.state.save(next);
    } catch (err) {
      this.deps.logger.error('model state not saved', { camera: slot.camera.id, error: describeError(err) });
    }
  }

  private announce(slot: Slot, r: CameraRouting): void {
    const o = this.deps.observer;
    if (!o?.modelActive) return;
    o.modelActive(slot.camera.id, 'primary', r.primary.identity);
    o.modelActive(slot.camera.id, 'candidate', r.candidate && r.mode === 'split' ? r.candidate.identity : null);
    o.modelActive(slot.camera.id, 'shadow', r.candidate && r.mode === 'shadow' ? r.candidate.identity : null);
  }

  private report(
    slot: Slot,
    model: Pick<ModelIdentity, 'modelId' | 'version' | 'sha256'>,
    arm: ModelArm,
    state: ModelState,
    revision: number,
    extra: { reason?: string; rolledBackTo?: string; bytesDone?: number } = {},
  ): void {
    const report: ModelStatusReport = {
      deviceId: this.deps.deviceId,
      cameraId: slot.camera.id,
      sha256: model.sha256,
      modelId: clip(model.modelId, MAX_TEXT_LENGTH),
      version: clip(model.version, MAX_TEXT_LENGTH),
      arm,
      state,
      reason: clip(extra.reason ?? '', MAX_ERROR_TEXT_LENGTH),
      revision,
      atMs: Math.max(1, Math.round(this.now())),
      rolledBackTo: extra.rolledBackTo ?? '',
      bytesDone: extra.bytesDone ?? 0,
    };
    if (state !== 'downloading') this.deps.logger.debug('model status', { ...report });
    this.deps.control?.reporter.push(report);
    this.deps.observer?.modelReport?.(report);
    for (const listener of this.listeners) {
      try {
        listener(report);
      } catch (err) {
        this.deps.logger.warn('model report listener failed', { error: describeError(err) });
      }
    }
  }

  /** Keeps the last K artifacts, never one in use, assigned or a camera's previous primary. */
  private prune(): void {
    const control = this.deps.control;
    if (!control) return;
    const protect = new Set<string>();
    for (const slot of this.slots.values()) {
      const r = slot.models?.current();
      if (r) {
        protect.add(r.primary.identity.sha256);
        if (r.candidate) protect.add(r.candidate.identity.sha256);
      }
      for (const d of [
        slot.persisted.primary,
        slot.persisted.previous,
        slot.persisted.candidate,
        slot.desired?.primary,
        slot.desired?.candidate,
      ]) {
        if (d) protect.add(d.sha256);
      }
    }
    try {
      const deleted = control.store.prune(control.settings.keepVersions, protect);
      if (deleted.length > 0) this.deps.logger.info('old model versions deleted', { sha256: deleted });
    } catch (err) {
      this.deps.logger.warn('model store pruning failed', { error: describeError(err) });
    }
  }

  /** Per-camera state for status and health: revision, previous primary, activation, what waits. */
  status(): Record<
    string,
    { revision: number; previous: string | null; activation: Activation | null; pending: number | null }
  > {
    const out: Record<
      string,
      { revision: number; previous: string | null; activation: Activation | null; pending: number | null }
    > = {};
    for (const [id, slot] of this.slots) {
      const prev = slot.persisted.previous;
      out[id] = {
        revision: slot.persisted.revision,
        previous: prev ? `${prev.modelId} ${prev.version}` : null,
        activation: slot.persisted.activation,
        pending: slot.desired?.revision ?? null,
      };
    }
    return out;
  }

  /** Clean stop: no new work, the running models released, the next boot does not count as a crash. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const slot of this.slots.values()) {
      slot.applyAbort?.abort();
      if (slot.stableTimer) clearTimeout(slot.stableTimer);
    }
    await Promise.all([...this.slots.values()].flatMap((s) => [s.queue, s.primaryRollback]));
    for (const slot of this.slots.values()) {
      slot.models?.close();
      slot.models = null;
    }
    this.deps.control?.state.markStopped();
    this.listeners.clear();
  }
}

/** The descriptor fields of a model now serving (the assignment's when it is that model). */
function descriptorOf(
  m: ActiveModel,
  assigned: ModelDescriptor | undefined,
): Pick<ModelIdentity, 'modelId' | 'version' | 'sha256'> {
  return assigned && assigned.sha256 === m.identity.sha256 ? assigned : m.identity;
}
