import type { RollbackPolicy } from '@edgefleet/proto';
import { Value } from '@sinclair/typebox/value';
import { type RollbackDefaults, RollbackDefaultsSchema } from '../config/agent-config-schema.js';

/** What the manager holds models to without a control section: the schema's defaults of `control.rollback`. */
const NO_CONTROL_DEFAULTS = Object.freeze(Value.Default(RollbackDefaultsSchema, {})) as RollbackDefaults;

/** An assignment's policy with the configured defaults where it says 0. */
export function resolvePolicy(
  p: RollbackPolicy | null | undefined,
  defaults: RollbackDefaults = NO_CONTROL_DEFAULTS,
): RollbackPolicy {
  const pick = (v: number | undefined, fallback: number) => (v !== undefined && v > 0 ? v : fallback);
  return {
    maxErrorRate: pick(p?.maxErrorRate, defaults.maxErrorRate),
    errorWindowFrames: pick(p?.errorWindowFrames, defaults.errorWindowFrames),
    p95LatencyBudgetMs: pick(p?.p95LatencyBudgetMs, defaults.p95LatencyBudgetMs),
    latencyWindowFrames: pick(p?.latencyWindowFrames, defaults.latencyWindowFrames),
    crashLoopRestarts: pick(p?.crashLoopRestarts, defaults.crashLoopRestarts),
    crashLoopWindowS: pick(p?.crashLoopWindowS, defaults.crashLoopWindowS),
  };
}
