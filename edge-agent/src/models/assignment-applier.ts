import type { AssignmentSnapshot, CameraAssignment, ModelArm, ModelDescriptor, RollbackPolicy } from '@edgefleet/proto';
import { EdgeError, describeError } from '../errors.js';
import type { Logger } from '@edgefleet/service-kit';
import { ModelRejectedError } from './artifact-verifier.js';
import type { CameraSlot } from './camera-slot.js';
import type { ActiveModel, CameraModels, CameraRouting, ModelIdentity } from './camera-models.js';
import type { CrashLoopGuard } from './crash-loop-guard.js';
import type { ManagerContext } from './manager-context.js';
import type { ModelLoader } from './model-loader.js';
import { type Activation, candidateArm } from './model-state-store.js';

export interface AssignmentApplierDeps {
  readonly ctx: ManagerContext;
  readonly loader: ModelLoader;
  readonly crashLoop: CrashLoopGuard;
  readonly prune: () => void;
}

/** One assignment being applied to one camera, and what it changes there. */
interface Application {
  readonly slot: CameraSlot;
  readonly models: CameraModels;
  readonly a: CameraAssignment;
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** The routing when the assignment was taken up. */
  readonly before: CameraRouting;
  readonly candArm: ModelArm;
  readonly primaryChanges: boolean;
  readonly candidateChanges: boolean;
  readonly policy: RollbackPolicy;
}

/** The models an assignment loaded, not yet serving (null: that arm does not change). */
interface Prepared {
  readonly primary: ActiveModel | null;
  readonly candidate: ActiveModel | null;
}

/**
 * Assignments: a newer revision for a camera → download (resumable) → verify (size, sha256, signature
 * with the pinned key) → load beside the running session → warm up → swap between two frames → report
 * `active`. Any failure reports `failed` with the reason while the old model keeps serving. A primary
 * with a lower serial than the running one is refused unless the assignment is a rollback. One camera
 * applies one assignment at a time; a newer one aborts the download of the one it replaces.
 */
export class AssignmentApplier {
  private readonly warned = new Set<string>();

  constructor(private readonly deps: AssignmentApplierDeps) {}

  /** A snapshot from the control plane: every camera with a newer revision is (re)applied in the background. */
  handleSnapshot(snapshot: AssignmentSnapshot): void {
    if (this.deps.ctx.run.stopping) return;
    for (const a of snapshot.cameras) {
      const slot = this.deps.ctx.slots.get(a.cameraId);
      if (!slot) this.warnUnknownCamera(a);
      else if (a.revision > slot.seenRevision) this.takeUp(slot, a);
    }
  }

  private warnUnknownCamera(a: CameraAssignment): void {
    if (this.warned.has(a.cameraId)) return;
    this.warned.add(a.cameraId);
    this.deps.ctx.deps.logger.warn('assignment for a camera this agent does not run', {
      camera: a.cameraId,
      revision: a.revision,
    });
  }

  private takeUp(slot: CameraSlot, a: CameraAssignment): void {
    slot.seenRevision = a.revision;
    slot.desired = a;
    // A newer assignment replaces one still downloading.
    slot.applyAbort?.abort();
    slot.queue = slot.queue
      .then(() => this.applyDesired(slot))
      .catch((err: unknown) => {
        this.deps.ctx.deps.logger.error('model manager task failed', {
          camera: slot.camera.id,
          error: describeError(err),
        });
      });
  }

  private async applyDesired(slot: CameraSlot): Promise<void> {
    const a = slot.desired;
    if (!a || this.deps.ctx.run.stopping) return;
    slot.desired = null;
    // A camera whose models never loaded (its baseline failed) cannot take assignments.
    if (!slot.models) {
      this.deps.ctx.deps.logger.warn('assignment ignored: the camera has no running model', {
        camera: slot.camera.id,
        revision: a.revision,
      });
      return;
    }
    const abort = new AbortController();
    slot.applyAbort = abort;
    try {
      await this.apply(this.application({ slot, models: slot.models, a, signal: abort.signal }));
    } finally {
      if (slot.applyAbort === abort) slot.applyAbort = null;
    }
  }

  private application(o: Pick<Application, 'slot' | 'models' | 'a' | 'signal'>): Application {
    const { a } = o;
    const before = o.models.current();
    return {
      ...o,
      log: this.deps.ctx.deps.logger.child({ camera: o.slot.camera.id, revision: a.revision }),
      before,
      candArm: candidateArm(a.candidateMode ?? null),
      primaryChanges: a.primary.sha256 !== before.primary.identity.sha256,
      candidateChanges: a.candidate !== undefined && a.candidate.sha256 !== before.candidate?.identity.sha256,
      policy: this.deps.ctx.policy(a.policy),
    };
  }

  private superseded(slot: CameraSlot): boolean {
    return this.deps.ctx.run.stopping || slot.desired !== null;
  }

  private async apply(app: Application): Promise<void> {
    this.received(app);
    if (this.refusedAsDowngrade(app)) return;
    const prepared = await this.prepareArms(app);
    if (!prepared) return;
    const { next, replaced } = this.swapIn(app, prepared);
    this.persistApplied({ app, prepared, next, replaced });
    this.deps.crashLoop.scheduleStable(app.slot);
    this.deps.ctx.book.announce(app.slot, next);
    this.reportActive(app, prepared, next);
    this.deps.prune();
  }

  private received(app: Application): void {
    const { a, slot } = app;
    app.log.info('assignment received', {
      primary: `${a.primary.modelId} ${a.primary.version}`,
      candidate: a.candidate
        ? `${a.candidate.modelId} ${a.candidate.version} (${a.candidateMode}${a.candidateMode === 'split' ? ` ${a.splitBasisPoints / 100} %` : ''})`
        : null,
      rollback: a.rollback,
      reason: a.reason,
    });
    const book = this.deps.ctx.book;
    if (app.primaryChanges)
      book.report({ slot, model: a.primary, arm: 'primary', state: 'received', revision: a.revision });
    if (a.candidate && app.candidateChanges)
      book.report({ slot, model: a.candidate, arm: app.candArm, state: 'received', revision: a.revision });
  }

  /** No downgrade unless it is an explicit rollback. */
  private refusedAsDowngrade(app: Application): boolean {
    const { a, slot } = app;
    const running = app.before.primary.identity;
    if (!app.primaryChanges || a.rollback || a.primary.serial >= running.serial) return false;
    const reason = `downgrade refused: serial ${a.primary.serial} (${a.primary.modelId} ${a.primary.version}) is older than the running serial ${running.serial} (${running.modelId} ${running.version}); only a rollback assignment may go back`;
    app.log.warn('assignment refused', { error: describeError(new EdgeError('EDGE_ERR_MODEL_DOWNGRADE', reason)) });
    this.deps.ctx.book.report({
      slot,
      model: a.primary,
      arm: 'primary',
      state: 'failed',
      revision: a.revision,
      reason,
    });
    this.deps.ctx.book.persist(slot, { ...slot.persisted, revision: a.revision });
    return true;
  }

  /**
   * Loads what changes. null: nothing is to be swapped in (a newer assignment or stop superseded this
   * one, or the primary was refused). A refused candidate is reported and the primary goes ahead alone.
   */
  private async prepareArms(app: Application): Promise<Prepared | null> {
    const { a, slot } = app;
    let primary: ActiveModel | null = null;
    if (app.primaryChanges) {
      try {
        primary = await this.prepare(app, a.primary, 'primary');
      } catch (err) {
        if (this.superseded(slot)) return null;
        this.refused({ app, descriptor: a.primary, arm: 'primary', err });
        this.deps.ctx.book.persist(slot, { ...slot.persisted, revision: a.revision });
        return null;
      }
      if (this.superseded(slot)) return release({ primary, candidate: null });
    }
    let candidate: ActiveModel | null = null;
    if (a.candidate && app.candidateChanges) {
      try {
        candidate = await this.prepare(app, a.candidate, app.candArm);
      } catch (err) {
        if (this.superseded(slot)) return release({ primary, candidate: null });
        this.refused({ app, descriptor: a.candidate, arm: app.candArm, err });
      }
      if (this.superseded(slot)) return release({ primary, candidate });
    }
    return { primary, candidate };
  }

  private prepare(app: Application, descriptor: ModelDescriptor, arm: ModelArm): Promise<ActiveModel> {
    const { slot, a, policy, signal } = app;
    return this.deps.loader.prepare({ slot, descriptor, arm, revision: a.revision, policy, signal });
  }

  private refused(o: { app: Application; descriptor: ModelDescriptor; arm: ModelArm; err: unknown }): void {
    const { app, descriptor: d, arm } = o;
    const reason = o.err instanceof ModelRejectedError ? o.err.reason : describeError(o.err);
    this.deps.ctx.deps.logger.warn('model refused; the running model keeps serving', {
      camera: app.slot.camera.id,
      model: d.modelId,
      version: d.version,
      arm,
      reason,
    });
    this.deps.ctx.book.report({ slot: app.slot, model: d, arm, state: 'failed', revision: app.a.revision, reason });
  }

  /**
   * Swap: parts this assignment does not change are taken from the routing as it is now (an automatic
   * rollback may have happened while the new models loaded). Returns the routing now serving and the one it replaced.
   */
  private swapIn(app: Application, prepared: Prepared): { next: CameraRouting; replaced: CameraRouting } {
    const { a, models } = app;
    const now = models.current();
    const candidate = a.candidate ? (app.candidateChanges ? prepared.candidate : now.candidate) : null;
    const newPrimary = prepared.primary;
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
    release(prepared);
    return { next, replaced: now };
  }

  private persistApplied(o: {
    app: Application;
    prepared: Prepared;
    next: CameraRouting;
    replaced: CameraRouting;
  }): void {
    const { app, prepared, next, replaced } = o;
    const { a, slot } = app;
    const p = slot.persisted;
    const newPrimary = prepared.primary !== null;
    // What a rollback of the new primary returns to: the primary it replaces (null: the baseline). A commanded
    // rollback keeps the older fallback instead, so the model it went back from never becomes the fallback.
    let previous = p.previous;
    if (newPrimary && !a.rollback) previous = replaced.primary.identity.baseline ? null : p.primary;
    else if (newPrimary && previous?.sha256 === a.primary.sha256) previous = null;
    const newCandidate = prepared.candidate !== null;
    this.deps.ctx.book.persist(slot, {
      cameraId: slot.camera.id,
      revision: a.revision,
      primary: newPrimary ? a.primary : p.primary,
      previous,
      candidate: next.candidate ? (newCandidate ? (a.candidate as ModelDescriptor) : p.candidate) : null,
      candidateMode: next.mode,
      splitBasisPoints: next.splitBasisPoints,
      policy: a.policy ?? null,
      activation: this.activation({ app, prepared, next, current: p.activation }),
    });
  }

  private activation(o: {
    app: Application;
    prepared: Prepared;
    next: CameraRouting;
    current: Activation | null;
  }): Activation | null {
    const { a } = o.app;
    const atMs = this.deps.ctx.now();
    if (o.prepared.primary) return { arm: 'primary', sha256: a.primary.sha256, atMs, boots: 0, stable: false };
    if (o.prepared.candidate && a.candidate)
      return { arm: 'candidate', sha256: a.candidate.sha256, atMs, boots: 0, stable: false };
    return o.current && (o.current.arm === 'primary' || o.next.candidate) ? o.current : null;
  }

  private reportActive(app: Application, prepared: Prepared, next: CameraRouting): void {
    const { a, slot, log } = app;
    const newPrimary = prepared.primary !== null;
    const book = this.deps.ctx.book;
    book.report({
      slot,
      model: descriptorOf(next.primary, a.primary),
      arm: 'primary',
      state: 'active',
      revision: a.revision,
      ...(a.rollback && newPrimary ? { reason: `rollback: ${a.reason}` } : {}),
    });
    if (next.candidate)
      book.report({
        slot,
        model: descriptorOf(next.candidate, a.candidate),
        arm: candidateArm(next.mode),
        state: 'active',
        revision: a.revision,
      });
    const removedCandidate = app.before.candidate !== null && next.candidate === null;
    if (a.rollback && (newPrimary || removedCandidate)) {
      log.warn('commanded rollback applied', {
        to: `${next.primary.identity.modelId} ${next.primary.identity.version}`,
        removedCandidate,
        reason: a.reason,
      });
      this.deps.ctx.deps.observer?.modelRollback?.(slot.camera.id, 'commanded');
    }
    log.info('models active', {
      primary: `${next.primary.identity.modelId} ${next.primary.identity.version}`,
      candidate: next.candidate ? `${next.candidate.identity.modelId} ${next.candidate.identity.version}` : null,
      mode: next.mode,
    });
  }
}

/** Releases what was prepared but will not serve; returns null (nothing to swap in). */
function release(prepared: Prepared): null {
  prepared.primary?.handle.release();
  prepared.candidate?.handle.release();
  return null;
}

/** The descriptor fields of a model now serving (the assignment's when it is that model). */
function descriptorOf(
  m: ActiveModel,
  assigned: ModelDescriptor | undefined,
): Pick<ModelIdentity, 'modelId' | 'version' | 'sha256'> {
  return assigned && assigned.sha256 === m.identity.sha256 ? assigned : m.identity;
}
