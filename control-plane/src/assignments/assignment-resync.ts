import { describeError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '@edgefleet/service-kit';
import type { RegistryStore } from '../storage/registry-store.js';
import { type Component, PeriodicTask } from '@edgefleet/service-kit';

/**
 * Notices assignment changes this replica did not make (another replica on the same PostgreSQL, or a
 * change whose event was lost) and publishes them on the bus, so watchers here get them within one
 * interval. Each tick reads the history's fingerprint (row count and highest revision, one cheap
 * query); only when it moved does it count history rows per watched device and emit
 * `assignment.changed` for each device whose count moved. Counting rows rather than comparing the
 * highest revision also catches a revision that committed after a higher one (sequence values are
 * taken in one order and may commit in another).
 */
export interface AssignmentResyncDeps {
  readonly registry: RegistryStore;
  readonly bus: EventBus;
  /** Devices with an open watch stream on this replica. */
  readonly watchedDevices: () => readonly string[];
  readonly intervalMs: number;
  readonly logger: Logger;
}

export class AssignmentResync implements Component {
  readonly name = 'assignment-resync';
  private task: PeriodicTask | null = null;
  private lastFingerprint = '';
  private readonly counts = new Map<string, number>();

  constructor(private readonly deps: AssignmentResyncDeps) {}

  async start(_signal?: AbortSignal): Promise<void> {
    const fp = await this.deps.registry.historyFingerprint();
    this.lastFingerprint = `${fp.rows}/${fp.maxRevision}`;
    // A slow tick is not stacked on.
    this.task = new PeriodicTask({
      intervalMs: this.deps.intervalMs,
      run: () => this.tick(),
      onError: (err) => this.deps.logger.warn('assignment resync failed', { error: describeError(err) }),
    });
    this.task.start();
  }

  async stop(): Promise<void> {
    await this.task?.stop();
    this.task = null;
  }

  /** One poll (exposed for tests). */
  async tick(): Promise<void> {
    const watched = this.deps.watchedDevices();
    for (const device of [...this.counts.keys()]) if (!watched.includes(device)) this.counts.delete(device);
    const fp = await this.deps.registry.historyFingerprint();
    const fingerprint = `${fp.rows}/${fp.maxRevision}`;
    // New watchers need a baseline even when nothing moved; otherwise nothing to do.
    const unknown = watched.filter((d) => !this.counts.has(d));
    if (fingerprint === this.lastFingerprint && unknown.length === 0) return;
    const moved = fingerprint !== this.lastFingerprint;
    this.lastFingerprint = fingerprint;
    const current = await this.deps.registry.historyCounts(moved ? watched : unknown);
    for (const device of moved ? watched : unknown) {
      const count = current.get(device) ?? 0;
      const before = this.counts.get(device);
      this.counts.set(device, count);
      // An unknown baseline counts as moved: the watcher's first snapshot may predate a change (it dedupes).
      if (before !== count) this.deps.bus.emit('assignment.changed', { deviceId: device, source: 'resync' });
    }
  }
}
