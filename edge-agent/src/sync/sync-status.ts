import type { Clock, Logger } from '@edgefleet/service-kit';
import { describeError } from '../errors.js';
import type { Outbox } from '../outbox/outbox.js';

export type SyncState = 'stopped' | 'connecting' | 'connected' | 'waiting';

export interface SyncStats {
  readonly state: SyncState;
  /** Protocol of the current or last connection. */
  readonly protocol: 'mqtt5' | 'mqtt311' | null;
  readonly connects: number;
  /** Connection attempts after a failure or a lost connection. */
  readonly reconnects: number;
  readonly publishedBatches: number;
  readonly ackedBatches: number;
  readonly ackedFrames: number;
  readonly ackedDetections: number;
  readonly inFlightBatches: number;
  /** Frames (and their detections) dropped unsent because the contract rejects them (see log). */
  readonly rejectedFrames: number;
  readonly rejectedDetections: number;
  readonly outboxFrames: number;
  readonly outboxDetections: number;
  /** Age of the oldest frame still in the outbox (unsent or unacknowledged), ms; 0 when empty. */
  readonly syncLagMs: number;
  readonly lastError: string | null;
  readonly lastErrorAtMs: number | null;
  readonly lastAckAtMs: number | null;
}

export interface SyncStatusDeps {
  readonly outbox: Outbox;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** The sync worker's state, counters and last error, as `stats()` reports them. Lives as long as the worker. */
export class SyncStatus {
  state: SyncState = 'stopped';
  protocol: 'mqtt5' | 'mqtt311' | null = null;
  readonly counters = {
    connects: 0,
    reconnects: 0,
    publishedBatches: 0,
    ackedBatches: 0,
    ackedFrames: 0,
    ackedDetections: 0,
    rejectedFrames: 0,
    rejectedDetections: 0,
  };
  lastError: string | null = null;
  lastErrorAt: number | null = null;
  lastAckAt: number | null = null;
  private lastLag = 0;

  constructor(private readonly deps: SyncStatusDeps) {}

  recordError(where: string, err: unknown): void {
    this.lastError = `${where}: ${describeError(err)}`;
    this.lastErrorAt = this.deps.clock.now();
    this.deps.logger.warn('sync error', { where, error: describeError(err) });
  }

  snapshot(inFlightBatches: number): SyncStats {
    let outboxFrames = 0;
    let outboxDetections = 0;
    try {
      const s = this.deps.outbox.stats();
      outboxFrames = s.frames;
      outboxDetections = s.detections;
      const oldest = outboxFrames > 0 ? this.deps.outbox.peekFrames(1).frames[0] : undefined;
      this.lastLag = oldest ? Math.max(0, this.deps.clock.now() - oldest.timestampMs) : 0;
    } catch {
      // A closed outbox (agent shutting down) keeps the last known numbers; stats must not throw.
    }
    return {
      state: this.state,
      protocol: this.protocol,
      ...this.counters,
      inFlightBatches,
      outboxFrames,
      outboxDetections,
      syncLagMs: this.lastLag,
      lastError: this.lastError,
      lastErrorAtMs: this.lastErrorAt,
      lastAckAtMs: this.lastAckAt,
    };
  }
}
