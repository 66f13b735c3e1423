import type { RollbackPolicy } from '@edgefleet/proto';

/** The budgets one activated model is held to (a policy with the agent's defaults filled in). */
export type HealthPolicy = Pick<
  RollbackPolicy,
  'maxErrorRate' | 'errorWindowFrames' | 'p95LatencyBudgetMs' | 'latencyWindowFrames'
>;

export type BreachKind = 'error_rate' | 'latency';

export interface Breach {
  readonly kind: BreachKind;
  readonly reason: string;
}

/**
 * Watches one activated model on one camera: inference errors over its last `errorWindowFrames` frames
 * and the p95 of its inference time over its last `latencyWindowFrames` frames. Reports a breach once.
 *
 * The error rule trips as soon as the errors in the window exceed `maxErrorRate × window`: frames not
 * seen yet could only lower the rate, so waiting for a full window would only serve more bad frames.
 * The latency rule needs a full window (a p95 of three frames says nothing).
 */
export class ModelHealth {
  private readonly outcomes: Uint8Array;
  private errors = 0;
  private outcomeAt = 0;
  private readonly latencies: Float64Array;
  private latencyCount = 0;
  private latencyAt = 0;
  private tripped = false;
  private lastError = '';
  private seen = 0;

  constructor(readonly policy: HealthPolicy) {
    this.outcomes = new Uint8Array(Math.max(1, policy.errorWindowFrames));
    this.latencies = new Float64Array(Math.max(1, policy.latencyWindowFrames));
  }

  get breached(): boolean {
    return this.tripped;
  }

  /** A full error window passed without a breach: the model has proven itself on this camera's frames. */
  get proven(): boolean {
    return !this.tripped && this.seen >= this.outcomes.length;
  }

  /** One inference: ok with its time, or failed with its message. Returns the breach it causes, once. */
  record(outcome: { readonly inferMs: number } | { readonly error: string }): Breach | null {
    if (this.tripped) return null;
    this.seen++;
    const failed = 'error' in outcome ? 1 : 0;
    this.errors += failed - (this.outcomes[this.outcomeAt] as number);
    this.outcomes[this.outcomeAt] = failed;
    this.outcomeAt = (this.outcomeAt + 1) % this.outcomes.length;
    if ('error' in outcome) {
      this.lastError = outcome.error;
      const window = this.outcomes.length;
      if (this.errors > this.policy.maxErrorRate * window) {
        this.tripped = true;
        return {
          kind: 'error_rate',
          reason: `inference errors: ${this.errors} of the last ${window} frames, above the ${this.policy.maxErrorRate} error rate (last: ${this.lastError})`,
        };
      }
      return null;
    }
    if (!(this.policy.p95LatencyBudgetMs > 0)) return null;
    this.latencies[this.latencyAt] = outcome.inferMs;
    this.latencyAt = (this.latencyAt + 1) % this.latencies.length;
    this.latencyCount = Math.min(this.latencyCount + 1, this.latencies.length);
    if (this.latencyCount < this.latencies.length) return null;
    const p95 = percentile(this.latencies, 0.95);
    if (p95 <= this.policy.p95LatencyBudgetMs) return null;
    this.tripped = true;
    return {
      kind: 'latency',
      reason: `latency: p95 inference time ${p95.toFixed(1)} ms over the last ${this.latencies.length} frames, above the ${this.policy.p95LatencyBudgetMs} ms budget`,
    };
  }
}

/** Nearest-rank percentile. */
export function percentile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}
