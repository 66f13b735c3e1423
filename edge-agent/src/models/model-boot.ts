import type { ModelDescriptor, RollbackPolicy } from '@edgefleet/proto';
import { describeError } from '../errors.js';
import type { CameraSlot } from './camera-slot.js';
import { type ActiveModel, CameraModels, type CameraRouting, type BreachListener } from './camera-models.js';
import type { BootRollback, CrashLoopGuard } from './crash-loop-guard.js';
import type { ManagerContext } from './manager-context.js';
import type { ModelLoader } from './model-loader.js';
import { candidateArm, type PersistedCamera } from './model-state-store.js';

export interface ModelBootDeps {
  readonly ctx: ManagerContext;
  readonly loader: ModelLoader;
  readonly crashLoop: CrashLoopGuard;
  /** Given every camera's breaches (automatic rollback). */
  readonly onBreach: (slot: CameraSlot) => BreachListener;
}

/**
 * Boot: each camera starts on its persisted models (primary, candidate) from the model store on disk,
 * whether or not the control plane is reachable; the configured model is the baseline when nothing was
 * ever assigned (or what was assigned cannot load). A crash loop after an activation boots the previous
 * model instead and reports `rolled_back`.
 */
export class ModelBoot {
  constructor(private readonly deps: ModelBootDeps) {}

  async bootCamera(slot: CameraSlot): Promise<CameraModels> {
    const rollback = this.deps.crashLoop.check(slot);
    const p = slot.persisted;
    const policy = this.deps.ctx.policy(p.policy);
    const { primary, tried } = await this.loadPrimary(slot, policy);
    const candidate = await this.loadCandidate(slot, policy);
    const booted: PersistedCamera = {
      ...p,
      primary: primary.identity.baseline ? null : (tried.find((d) => d.sha256 === primary.identity.sha256) ?? null),
      previous: p.primary && primary.identity.sha256 === p.primary.sha256 ? p.previous : null,
      candidate: candidate ? p.candidate : null,
      candidateMode: candidate ? p.candidateMode : null,
      splitBasisPoints: candidate ? p.splitBasisPoints : 0,
    };
    this.deps.ctx.book.persist(slot, booted);
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
    models.onBreach(this.deps.onBreach(slot));
    slot.models = models;
    this.deps.ctx.book.announce(slot, routing);
    // Either way the camera now serves its primary: the previous one, or the same one without the candidate.
    if (rollback) this.reportRollback({ slot, rollback, to: primary.identity.sha256, revision: p.revision });
    this.deps.crashLoop.scheduleStable(slot);
    return models;
  }

  /** The persisted primary, else the previous one, else the configured model. */
  private async loadPrimary(
    slot: CameraSlot,
    policy: RollbackPolicy,
  ): Promise<{ primary: ActiveModel; tried: ModelDescriptor[] }> {
    const p = slot.persisted;
    const tried: ModelDescriptor[] = [];
    for (const d of [p.primary, p.previous]) {
      if (!d || tried.some((t) => t.sha256 === d.sha256)) continue;
      tried.push(d);
      try {
        return { primary: await this.deps.loader.loadFromDisk({ slot, descriptor: d, policy }), tried };
      } catch (err) {
        this.cannotBoot({ slot, descriptor: d, arm: 'primary', err });
      }
    }
    return { primary: await this.deps.loader.loadBaseline(slot), tried };
  }

  private async loadCandidate(slot: CameraSlot, policy: RollbackPolicy): Promise<ActiveModel | null> {
    const p = slot.persisted;
    if (!p.candidate) return null;
    try {
      return await this.deps.loader.loadFromDisk({ slot, descriptor: p.candidate, policy });
    } catch (err) {
      this.cannotBoot({ slot, descriptor: p.candidate, arm: candidateArm(p.candidateMode), err });
      return null;
    }
  }

  private cannotBoot(o: {
    slot: CameraSlot;
    descriptor: ModelDescriptor;
    arm: ReturnType<typeof candidateArm>;
    err: unknown;
  }): void {
    this.deps.ctx.book.report({
      slot: o.slot,
      model: o.descriptor,
      arm: o.arm,
      state: 'failed',
      revision: o.slot.persisted.revision,
      reason: `cannot boot on it: ${describeError(o.err)}`,
    });
  }

  private reportRollback(o: { slot: CameraSlot; rollback: BootRollback; to: string; revision: number }): void {
    const { slot, rollback } = o;
    const { ctx } = this.deps;
    ctx.deps.logger.error('model rolled back at boot', {
      camera: slot.camera.id,
      model: rollback.failing.modelId,
      version: rollback.failing.version,
      reason: rollback.reason,
    });
    ctx.book.report({
      slot,
      model: rollback.failing,
      arm: rollback.arm,
      state: 'rolled_back',
      revision: o.revision,
      reason: rollback.reason,
      rolledBackTo: o.to,
    });
    ctx.deps.observer?.modelRollback?.(slot.camera.id, 'crash_loop');
  }
}
