import { addDays, dayOf } from './day-partitions.js';
import { describeError } from '../errors.js';
import type { Store } from './store.js';
import { type Clock, type Component, type Logger, PeriodicTask } from '@edgefleet/service-kit';

/**
 * Keeps day partitions ahead of time and applies retention: at start and then every
 * `intervalMs`, creates today's partition and `partitionsAhead` more, and drops the ones older than
 * `retentionDays`. Safe to run from several replicas at once (the store serialises schema changes).
 */
export interface PartitionMaintainerOptions {
  readonly partitionsAhead: number;
  readonly retentionDays: number;
  readonly intervalMs: number;
}

export interface PartitionMaintainerDeps {
  readonly store: Store;
  readonly logger: Logger;
  readonly clock: Clock;
}

export class PartitionMaintainer implements Component {
  readonly name = 'partition-maintainer';
  private task: PeriodicTask | null = null;

  constructor(
    private readonly options: PartitionMaintainerOptions,
    private readonly deps: PartitionMaintainerDeps,
  ) {}

  /** One pass; throws CP_ERR_STORAGE on failure. */
  async runOnce(): Promise<{ created: string[]; dropped: string[] }> {
    const today = dayOf(this.deps.clock.now());
    const created = await this.deps.store.ensurePartitions(today, this.options.partitionsAhead + 1);
    const dropped = await this.deps.store.dropPartitionsOlderThan(addDays(today, -this.options.retentionDays));
    if (created.length > 0 || dropped.length > 0) this.deps.logger.info('partitions maintained', { created, dropped });
    return { created, dropped };
  }

  /** Runs once now (failing start if that fails), then periodically; later failures are logged and retried next time. */
  async start(_signal?: AbortSignal): Promise<void> {
    await this.runOnce();
    this.task = new PeriodicTask({
      intervalMs: this.options.intervalMs,
      run: async () => {
        await this.runOnce();
      },
      onError: (err) => this.deps.logger.error('partition maintenance failed', { error: describeError(err) }),
    });
    this.task.start();
  }

  async stop(): Promise<void> {
    await this.task?.stop();
    this.task = null;
  }
}
