import type { CandidateMode, ModelArm } from '@edgefleet/proto';
import type { DetectResult } from '@edgefleet/vision';
import type { DetectorHandle } from './detector-pool.js';
import type { Breach, ModelHealth } from './model-health.js';
import { SplitSequence } from './split-sequence.js';

/** Who a model is, as detections and reports name it. */
export interface ModelIdentity {
  readonly modelId: string;
  readonly version: string;
  readonly sha256: string;
  /** Registry serial; 0 for the configured baseline model. */
  readonly serial: number;
  /** true: the config file's model, not one the control plane assigned. */
  readonly baseline: boolean;
}

/** A loaded model serving one arm of one camera, with its own health record since its activation. */
export interface ActiveModel {
  readonly handle: DetectorHandle;
  readonly identity: ModelIdentity;
  /** null: not watched (the baseline when nothing was ever assigned). */
  readonly health: ModelHealth | null;
}

export interface CameraRouting {
  readonly primary: ActiveModel;
  readonly candidate: ActiveModel | null;
  /** Set exactly when there is a candidate. */
  readonly mode: CandidateMode | null;
  readonly splitBasisPoints: number;
  /** Assignment revision this routing comes from (0: none). */
  readonly revision: number;
  /**
   * The primary this one replaced, kept loaded while the new primary is on probation (until its first full
   * error window passes without a breach): a frame the new primary fails on is run by it instead of being
   * lost, and a rollback needs no reload. null otherwise.
   */
  readonly fallback?: ActiveModel | null;
}

/**
 * What to run on one frame, decided at its start. Its models stay loaded until `release()` even if the
 * routing changes meanwhile, so a swap takes effect between two frames and never inside one.
 */
export interface FramePlan {
  /** The model whose result is the frame's. */
  readonly run: ActiveModel;
  readonly arm: 'primary' | 'candidate';
  /**
   * Who takes the frame when `run` fails on it: for split frames the primary, for primary frames the
   * previous primary while the new one is on probation; null otherwise.
   */
  readonly fallback: ActiveModel | null;
  /** Shadow mode: the candidate, run on the same frame; its detections carry arm `shadow`. */
  readonly shadow: ActiveModel | null;
  release(): void;
}

export type InferenceOutcome = { readonly result: DetectResult } | { readonly error: unknown };

export type BreachListener = (model: ActiveModel, arm: ModelArm, breach: Breach) => void;

function leased(m: ActiveModel, held: DetectorHandle[]): ActiveModel {
  m.handle.retain();
  held.push(m.handle);
  return m;
}

/**
 * One camera's models: the primary and an optional candidate (split or shadow). The camera worker asks for
 * a plan at the start of every frame (synchronous: one read of the current routing), the model manager
 * swaps the routing between frames.
 */
export class CameraModels {
  private routing: CameraRouting;
  private readonly split: SplitSequence;
  private breachListener: BreachListener | null = null;

  constructor(
    readonly cameraId: string,
    initial: CameraRouting,
  ) {
    this.routing = initial;
    this.retainAll(initial);
    this.split = new SplitSequence(cameraId);
  }

  current(): CameraRouting {
    return this.routing;
  }

  onBreach(listener: BreachListener | null): void {
    this.breachListener = listener;
  }

  /** Replaces the routing (the next frame uses it); returns the previous one. Handles are retained here. */
  swap(next: CameraRouting): CameraRouting {
    const previous = this.routing;
    this.retainAll(next);
    this.routing = next;
    this.releaseAll(previous);
    return previous;
  }

  plan(): FramePlan {
    const r = this.routing;
    const held: DetectorHandle[] = [];
    const release = () => {
      for (const h of held.splice(0)) h.release();
    };
    const primary = leased(r.primary, held);
    const probation = r.fallback ? leased(r.fallback, held) : null;
    if (r.candidate && r.mode === 'shadow') {
      return { run: primary, arm: 'primary', fallback: probation, shadow: leased(r.candidate, held), release };
    }
    // The sequence advances on every frame, with or without a candidate, so a split restarted by a new
    // assignment continues the same even spread.
    const toCandidate = this.split.next(r.candidate && r.mode === 'split' ? r.splitBasisPoints : 0);
    if (r.candidate && toCandidate) {
      return { run: leased(r.candidate, held), arm: 'candidate', fallback: primary, shadow: null, release };
    }
    return { run: primary, arm: 'primary', fallback: probation, shadow: null, release };
  }

  /** The worker's account of one inference: feeds the model's health and raises a breach once. */
  recordInference(model: ActiveModel, arm: ModelArm, outcome: InferenceOutcome): void {
    if (!model.health) return;
    const breach = model.health.record(
      'result' in outcome ? { inferMs: outcome.result.timings.inferMs } : { error: errorText(outcome.error) },
    );
    if (breach) {
      this.breachListener?.(model, arm, breach);
      return;
    }
    // Probation over: the replaced primary is no longer needed as the fallback.
    const r = this.routing;
    if (r.fallback && model === r.primary && model.health.proven) this.swap({ ...r, fallback: null });
  }

  /** Releases the routing's handles (agent stop). */
  close(): void {
    this.releaseAll(this.routing);
  }

  private retainAll(r: CameraRouting): void {
    r.primary.handle.retain();
    r.candidate?.handle.retain();
    r.fallback?.handle.retain();
  }

  private releaseAll(r: CameraRouting): void {
    r.primary.handle.release();
    r.candidate?.handle.release();
    r.fallback?.handle.release();
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
