import type { ModelArm, ModelDescriptor } from '@edgefleet/proto';
import type { CameraSlot } from './camera-slot.js';
import type { ManagerContext } from './manager-context.js';
import { type Activation, candidateArm, type PersistedCamera } from './model-state-store.js';

/** What boot had to undo: the model a crash loop followed, on which arm, and why. */
export interface BootRollback {
  readonly failing: ModelDescriptor;
  readonly arm: ModelArm;
  readonly reason: string;
}

/**
 * The crash-loop rule: N boots without a clean stop within T seconds of an activation roll the activated
 * model back at boot. An activation that survives its window is stable: later restarts do not count.
 */
export class CrashLoopGuard {
  constructor(private readonly ctx: ManagerContext) {}

  /** Applied to the persisted state before anything loads; returns what it rolled back, if anything. */
  check(slot: CameraSlot): BootRollback | null {
    const p = slot.persisted;
    const act = p.activation;
    if (!this.ctx.deps.control || !act || act.stable) return null;
    const policy = this.ctx.policy(p.policy);
    if (this.ctx.now() - act.atMs >= policy.crashLoopWindowS * 1000) {
      this.ctx.book.persist(slot, { ...p, activation: { ...act, stable: true, boots: 0 } });
      return null;
    }
    if (this.ctx.run.cleanStop) return null;
    const boots = act.boots + 1;
    if (boots < policy.crashLoopRestarts) {
      this.countBoot({ slot, act, boots, policy });
      return null;
    }
    return this.rollBack(slot, `crash loop: ${boots} restarts within ${policy.crashLoopWindowS} s`);
  }

  private countBoot(o: {
    slot: CameraSlot;
    act: Activation;
    boots: number;
    policy: { crashLoopRestarts: number; crashLoopWindowS: number };
  }): void {
    this.ctx.book.persist(o.slot, { ...o.slot.persisted, activation: { ...o.act, boots: o.boots } });
    this.ctx.deps.logger.warn('restart soon after a model activation', {
      camera: o.slot.camera.id,
      boots: o.boots,
      of: o.policy.crashLoopRestarts,
      windowS: o.policy.crashLoopWindowS,
    });
  }

  private rollBack(slot: CameraSlot, reason: string): BootRollback | null {
    const p = slot.persisted;
    const arm = p.activation?.arm;
    let next: PersistedCamera = { ...p, activation: null };
    let rollback: BootRollback | null = null;
    if (arm === 'candidate' && p.candidate) {
      next = { ...next, candidate: null, candidateMode: null, splitBasisPoints: 0 };
      rollback = { failing: p.candidate, arm: candidateArm(p.candidateMode), reason };
    } else if (arm === 'primary' && p.primary) {
      next = { ...next, primary: p.previous, previous: null };
      rollback = { failing: p.primary, arm: 'primary', reason };
    }
    this.ctx.book.persist(slot, next);
    return rollback;
  }

  /** Marks the slot's activation stable once its crash-loop window has passed. */
  scheduleStable(slot: CameraSlot): void {
    if (slot.stableTimer) clearTimeout(slot.stableTimer);
    slot.stableTimer = null;
    const act = slot.persisted.activation;
    if (!act || act.stable || !this.ctx.deps.control) return;
    const remaining = this.ctx.policy(slot.persisted.policy).crashLoopWindowS * 1000 - (this.ctx.now() - act.atMs);
    slot.stableTimer = setTimeout(() => this.markStable(slot, act), Math.max(0, remaining));
    slot.stableTimer.unref();
  }

  private markStable(slot: CameraSlot, act: Activation): void {
    slot.stableTimer = null;
    const current = slot.persisted.activation;
    if (!current || current.atMs !== act.atMs || this.ctx.run.stopping) return;
    this.ctx.book.persist(slot, { ...slot.persisted, activation: { ...current, stable: true, boots: 0 } });
    this.ctx.deps.logger.info('model activation stable', { camera: slot.camera.id, sha256: current.sha256 });
  }
}
