import type { AssignmentSnapshot } from '@edgefleet/proto';
import { AssignmentApplier } from './assignment-applier.js';
import { AutomaticRollback } from './automatic-rollback.js';
import type { CameraModels } from './camera-models.js';
import { createSlot, type CameraSlot } from './camera-slot.js';
import { CrashLoopGuard } from './crash-loop-guard.js';
import type { ManagerContext, ModelManagerDeps } from './manager-context.js';
import { ModelBoot } from './model-boot.js';
import { ModelBookkeeping, type ReportListener } from './model-bookkeeping.js';
import { ModelLoader } from './model-loader.js';
import { pruneModels } from './model-pruning.js';
import type { Activation, PersistedCamera } from './model-state-store.js';
import { resolvePolicy } from './rollback-policy.js';

export type {
  ManagedControl,
  ModelManagerDeps,
  ModelObserver,
  RollbackKind,
} from './manager-context.js';
export type { ReportListener } from './model-bookkeeping.js';

/** Per-camera state for status and health. */
export interface CameraModelStatus {
  readonly revision: number;
  readonly previous: string | null;
  readonly activation: Activation | null;
  readonly pending: number | null;
}

/**
 * Per-camera model lifecycle (docs/architecture.md §6), in parts of its own: boot (`model-boot.ts`, with the crash-loop rule in
 * `crash-loop-guard.ts`), loading (`model-loader.ts`), assignments (`assignment-applier.ts`), automatic
 * rollback (`automatic-rollback.ts`) and bookkeeping (`model-bookkeeping.ts`, `model-pruning.ts`).
 *
 * Detection never waits for any of this: cameras read their routing at the start of each frame. Follows the
 * `Component` lifecycle of service-kit (`name`, `start(signal)`, `stop()`).
 */
export class ModelManager {
  readonly name = 'models';
  private readonly ctx: ManagerContext;
  private readonly boot: ModelBoot;
  private readonly assignments: AssignmentApplier;
  /** Resolvers of `ready()` promises handed out before start. */
  private readonly early = new Map<
    string,
    { readonly promise: Promise<CameraModels>; readonly settle: (models: Promise<CameraModels>) => void }
  >();

  constructor(private readonly deps: ModelManagerDeps) {
    const now = () => deps.clock.now();
    const book = new ModelBookkeeping({ ...deps, now });
    this.ctx = {
      deps,
      slots: new Map(),
      book,
      run: { stopping: false, cleanStop: true },
      now,
      policy: (p) => resolvePolicy(p, deps.control?.settings.rollback),
    };
    const loader = new ModelLoader(this.ctx);
    const crashLoop = new CrashLoopGuard(this.ctx);
    const prune = () => pruneModels({ slots: this.ctx.slots.values(), control: deps.control, logger: deps.logger });
    const rollback = new AutomaticRollback({ ctx: this.ctx, loader, crashLoop, prune });
    this.boot = new ModelBoot({ ctx: this.ctx, loader, crashLoop, onBreach: (slot) => rollback.listenerFor(slot) });
    this.assignments = new AssignmentApplier({ ctx: this.ctx, loader, crashLoop, prune });
  }

  /** Every status report the manager makes (also without a control plane); returns the unsubscribe function. */
  onReport(listener: ReportListener): () => void {
    return this.ctx.book.onReport(listener);
  }

  /**
   * Starts loading every camera's models and resolves at once: each camera resolves on its own (one whose
   * models cannot load fails alone), and `ready(cameraId)` is what its worker waits for.
   */
  async start(_signal: AbortSignal): Promise<void> {
    const control = this.deps.control;
    let persisted = new Map<string, PersistedCamera>();
    if (control) {
      this.ctx.run.cleanStop = control.state.markRunning().cleanStop;
      persisted = control.state.load();
    }
    for (const camera of this.deps.cameras) {
      const slot = createSlot({ camera, defaultModel: this.deps.model });
      this.ctx.slots.set(camera.id, slot);
      const p = persisted.get(camera.id);
      if (p) {
        slot.persisted = p;
        slot.seenRevision = p.revision;
      }
      slot.ready = this.boot.bootCamera(slot);
      // Each camera worker reports its own failure; nothing else awaits this promise.
      slot.ready.catch(() => undefined);
      this.early.get(camera.id)?.settle(slot.ready);
    }
  }

  /**
   * The models of a camera, once loaded; rejects when they cannot load. May be asked before start (the
   * composition root builds camera workers before it starts anything): the promise then settles after start.
   */
  ready(cameraId: string): Promise<CameraModels> {
    const ready = this.ctx.slots.get(cameraId)?.ready;
    if (ready) return ready;
    // A programming error (a camera the agent did not give the manager), not a fault.
    if (!this.deps.cameras.some((c) => c.id === cameraId)) throw new Error(`camera ${cameraId} is not managed`);
    const known = this.early.get(cameraId);
    if (known) return known.promise;
    let settle: (models: Promise<CameraModels>) => void = () => {};
    const promise = new Promise<CameraModels>((resolve) => {
      settle = resolve;
    });
    promise.catch(() => undefined);
    this.early.set(cameraId, { promise, settle });
    return promise;
  }

  /** A snapshot from the control plane: every camera with a newer revision is (re)applied in the background. */
  handleSnapshot(snapshot: AssignmentSnapshot): void {
    this.assignments.handleSnapshot(snapshot);
  }

  /** Highest assignment revision this agent has handled (the watch's known_revision). */
  knownRevision(): number {
    let revision = 0;
    for (const slot of this.slots()) revision = Math.max(revision, slot.persisted.revision);
    return revision;
  }

  /** Execution providers of the loaded primaries. */
  providers(): string[] {
    const out = new Set<string>();
    for (const slot of this.slots()) {
      const p = slot.models?.current().primary;
      if (p) out.add(p.handle.detector.info.provider);
    }
    return [...out];
  }

  /** Per-camera state for status and health: revision, previous primary, activation, what waits. */
  status(): Record<string, CameraModelStatus> {
    const out: Record<string, CameraModelStatus> = {};
    for (const [id, slot] of this.ctx.slots) {
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
    this.ctx.run.stopping = true;
    for (const slot of this.slots()) {
      slot.applyAbort?.abort();
      if (slot.stableTimer) clearTimeout(slot.stableTimer);
    }
    await Promise.all(this.slots().flatMap((s) => [s.queue, s.primaryRollback]));
    for (const slot of this.slots()) {
      slot.models?.close();
      slot.models = null;
    }
    this.deps.control?.state.markStopped();
    this.ctx.book.clearListeners();
  }

  private slots(): CameraSlot[] {
    return [...this.ctx.slots.values()];
  }
}
