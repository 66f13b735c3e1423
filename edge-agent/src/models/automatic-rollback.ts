import type { ModelArm } from '@edgefleet/proto';
import { describeError } from '../errors.js';
import type { CameraSlot } from './camera-slot.js';
import type { ActiveModel, BreachListener, CameraModels } from './camera-models.js';
import type { CrashLoopGuard } from './crash-loop-guard.js';
import type { ManagerContext, RollbackKind } from './manager-context.js';
import { type Breach, ModelHealth } from './model-health.js';
import type { ModelLoader } from './model-loader.js';

export interface AutomaticRollbackDeps {
  readonly ctx: ManagerContext;
  readonly loader: ModelLoader;
  readonly crashLoop: CrashLoopGuard;
  readonly prune: () => void;
}

/** A failing model on its way out: which one, on which arm, why, and what replaces it. */
interface RolledBack {
  readonly slot: CameraSlot;
  readonly model: ActiveModel;
  readonly arm: ModelArm;
  readonly kind: RollbackKind;
  readonly reason: string;
  /** sha256 of the model serving instead. */
  readonly to: string;
}

/**
 * Automatic rollback: an activated model whose error rate or p95 latency breaks its policy is rolled back
 * (a candidate is removed; a primary is replaced by the previous primary, reloaded from disk) and the
 * rollback is reported with its reason.
 */
export class AutomaticRollback {
  constructor(private readonly deps: AutomaticRollbackDeps) {}

  /** The breach listener of one camera's models. */
  listenerFor(slot: CameraSlot): BreachListener {
    return (model, arm, breach) => this.onBreach({ slot, model, arm, breach });
  }

  private onBreach(o: { slot: CameraSlot; model: ActiveModel; arm: ModelArm; breach: Breach }): void {
    const { slot, model } = o;
    const models = slot.models;
    if (!models || this.deps.ctx.run.stopping) return;
    const now = models.current();
    if (now.candidate === model) {
      this.removeCandidate({ ...o, models });
      return;
    }
    if (now.primary === model && !slot.primaryRollback) {
      slot.primaryRollback = this.rollbackPrimary({ slot, models, failing: model, breach: o.breach })
        .catch((err: unknown) =>
          this.deps.ctx.deps.logger.error('rollback failed', { camera: slot.camera.id, error: describeError(err) }),
        )
        .finally(() => {
          slot.primaryRollback = null;
        });
    }
  }

  /** A candidate goes at once: the primary is loaded and serving already. */
  private removeCandidate(o: {
    slot: CameraSlot;
    models: CameraModels;
    model: ActiveModel;
    arm: ModelArm;
    breach: Breach;
  }): void {
    const { slot, models } = o;
    const now = models.current();
    models.swap({ ...now, candidate: null, mode: null, splitBasisPoints: 0 });
    const p = slot.persisted;
    this.deps.ctx.book.persist(slot, {
      ...p,
      candidate: null,
      candidateMode: null,
      splitBasisPoints: 0,
      activation: p.activation?.arm === 'candidate' ? null : p.activation,
    });
    this.deps.crashLoop.scheduleStable(slot);
    this.deps.ctx.book.announce(slot, models.current());
    const { kind, reason } = o.breach;
    this.rolledBack({ slot, model: o.model, arm: o.arm, kind, reason, to: now.primary.identity.sha256 });
  }

  /** The failing primary keeps the camera until the previous one is loaded (from disk), then they swap. */
  private async rollbackPrimary(o: {
    slot: CameraSlot;
    models: CameraModels;
    failing: ActiveModel;
    breach: Breach;
  }): Promise<void> {
    const { slot, models, failing } = o;
    const target = slot.persisted.previous;
    const next = await this.replacementFor(slot, models, failing);
    if (!next) return;
    const now = models.current();
    if (now.primary !== failing || this.deps.ctx.run.stopping) {
      next.handle.release();
      return;
    }
    models.swap({ ...now, primary: next, fallback: null });
    next.handle.release();
    const p = slot.persisted;
    this.deps.ctx.book.persist(slot, {
      ...p,
      primary: next.identity.baseline ? null : target,
      previous: null,
      activation: p.activation?.arm === 'primary' ? null : p.activation,
    });
    this.deps.crashLoop.scheduleStable(slot);
    this.deps.ctx.book.announce(slot, models.current());
    const { kind, reason } = o.breach;
    this.rolledBack({ slot, model: failing, arm: 'primary', kind, reason, to: next.identity.sha256 });
    this.deps.prune();
  }

  /** The standby still loaded on probation, else the previous primary from disk, else the configured model. */
  private async replacementFor(
    slot: CameraSlot,
    models: CameraModels,
    failing: ActiveModel,
  ): Promise<ActiveModel | null> {
    const standby = this.standby(slot, models, failing);
    if (standby) return standby;
    const target = slot.persisted.previous;
    const policy = this.deps.ctx.policy(slot.persisted.policy);
    const logger = this.deps.ctx.deps.logger;
    if (target && target.sha256 !== failing.identity.sha256) {
      try {
        return await this.deps.loader.loadFromDisk({ slot, descriptor: target, policy });
      } catch (err) {
        logger.error('previous model cannot load; rolling back to the configured model', {
          camera: slot.camera.id,
          error: describeError(err),
        });
      }
    }
    if (failing.identity.baseline) return null;
    try {
      return await this.deps.loader.loadBaseline(slot);
    } catch (err) {
      logger.error('rollback impossible: the configured model cannot load either', {
        camera: slot.camera.id,
        error: describeError(err),
      });
      return null;
    }
  }

  /** On probation the replaced primary is still loaded: back to it at once, no reload. */
  private standby(slot: CameraSlot, models: CameraModels, failing: ActiveModel): ActiveModel | null {
    const target = slot.persisted.previous;
    const standby = models.current().fallback;
    if (!standby || standby.identity.sha256 === failing.identity.sha256) return null;
    if (target ? standby.identity.sha256 !== target.sha256 : !standby.identity.baseline) return null;
    standby.handle.retain();
    // Watched afresh from now on, as a model reloaded from disk would be.
    const policy = this.deps.ctx.policy(slot.persisted.policy);
    return {
      handle: standby.handle,
      identity: standby.identity,
      health: standby.health ? new ModelHealth(policy) : null,
    };
  }

  private rolledBack(r: RolledBack): void {
    const { ctx } = this.deps;
    ctx.deps.logger.error('model rolled back', {
      camera: r.slot.camera.id,
      model: r.model.identity.modelId,
      version: r.model.identity.version,
      arm: r.arm,
      reason: r.reason,
      rolledBackTo: r.to,
    });
    ctx.book.report({
      slot: r.slot,
      model: r.model.identity,
      arm: r.arm,
      state: 'rolled_back',
      revision: r.slot.persisted.revision,
      reason: r.reason,
      rolledBackTo: r.to,
    });
    ctx.deps.observer?.modelRollback?.(r.slot.camera.id, r.kind);
  }
}
