import { DEFAULT_MAX_PAYLOAD_BYTES, ProtoError, encodeDetectionBatch } from '@edgefleet/proto';
import type { Clock, Logger } from '@edgefleet/service-kit';
import type { Outbox } from '../outbox/outbox.js';
import type { OutboxBatch, OutboxBatcher, PendingFrame } from './outbox-batcher.js';
import type { MqttSyncOptions } from './sync-options.js';
import type { SyncObserver } from './sync-reports.js';
import type { BrokerLimits, SyncSession } from './sync-session.js';
import type { SyncStatus } from './sync-status.js';

interface InFlight {
  readonly batchId: number;
  readonly rowIds: number[];
  readonly frames: number;
  readonly detections: number;
  readonly sentAt: number;
}

export interface PublishPumpDeps {
  readonly outbox: Outbox;
  readonly deviceId: string;
  readonly logger: Logger;
  readonly observer: SyncObserver | undefined;
  readonly clock: Clock;
  readonly status: SyncStatus;
  readonly options: MqttSyncOptions;
  readonly batcher: OutboxBatcher;
  /** Largest possible DetectionBatch header (device id, batch id, sent_at) in bytes. */
  readonly headerBytes: number;
  readonly topic: string;
  /** Aborted when the worker stops: nothing more is published. */
  readonly stopping: AbortSignal;
}

/**
 * Outbox → QoS 1 publishes on the current session, in outbox row order, at most `window` batches waiting
 * for a PUBACK; rows are deleted when theirs arrives. Before the first publish of rows not yet known
 * durable the outbox is checkpointed (fsync), so after a power cut no sequence number the broker has seen
 * is handed out again. When the session ends every batch in flight counts as unsent.
 */
export class PublishPump {
  /** The connection publishes go to; null while disconnected. */
  private current: SyncSession | null = null;
  private readonly inFlight = new Map<number, InFlight>();
  private window = 1;
  private pumping = false;
  /** Batches to send one frame at a time (after a batch that failed only as a whole). */
  private singleFrameBatches = 0;
  private pollTimer: unknown = null;
  private drained: (() => void) | null = null;
  private durableRowId = 0;
  private batchCounter = 0;

  constructor(private readonly deps: PublishPumpDeps) {}

  get session(): SyncSession | null {
    return this.current;
  }

  get inFlightBatches(): number {
    return this.inFlight.size;
  }

  get effectiveWindow(): number {
    return this.window;
  }

  /** A new connection: publishing starts again at the oldest row still in the outbox. */
  attach(session: SyncSession, limits: BrokerLimits): void {
    const { options, batcher, headerBytes } = this.deps;
    this.current = session;
    // [MQTT-3.2.2-15] a packet above the broker's Maximum Packet Size gets the connection closed; keep
    // batches below it (the PUBLISH header, topic included, stays under 512 bytes).
    const maxBytes = limits.maximumPacketSize
      ? Math.max(1024, Math.min(options.batchMaxBytes, limits.maximumPacketSize - 512))
      : options.batchMaxBytes;
    batcher.setLimits({ maxFrames: options.batchMaxFrames, maxBytes: maxBytes - headerBytes });
    this.inFlight.clear();
    batcher.rewind();
    // [MQTT-3.3.4-7] no more unacknowledged QoS 1 publishes than the broker's Receive Maximum;
    // one slot stays free for the status message.
    this.window = limits.receiveMaximum
      ? Math.max(1, Math.min(options.inFlightWindow, limits.receiveMaximum - 1))
      : options.inFlightWindow;
  }

  /** The connection is gone: unacknowledged batches are unsent, their rows go again next time. */
  detach(): void {
    this.current = null;
    this.inFlight.clear();
    this.deps.batcher.rewind();
    this.clearPoll();
    this.drained?.();
  }

  /** Publishes batches until the window is full or the outbox has nothing unsent. */
  pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        const session = this.current;
        if (!session || this.deps.stopping.aborted || this.inFlight.size >= this.window) return;
        const batch = this.deps.batcher.next(this.singleFrameBatches > 0 ? 1 : undefined);
        if (!batch) {
          this.schedulePoll();
          return;
        }
        if (this.singleFrameBatches > 0) this.singleFrameBatches--;
        this.publishBatch(session, batch);
      }
    } catch (err) {
      // Outbox trouble (disk, I/O): keep the connection, try again at the next poll.
      this.deps.status.recordError('outbox', err);
      this.schedulePoll();
    } finally {
      this.pumping = false;
    }
  }

  /** Resolves when no batch is in flight (or the connection is gone), or after `timeoutMs`. */
  waitDrained(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.deps.clock.clearTimeout(timer);
        this.drained = null;
        resolve();
      };
      const timer = this.deps.clock.setTimeout(done, timeoutMs);
      this.drained = done;
    });
  }

  clearPoll(): void {
    if (this.pollTimer) this.deps.clock.clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  private schedulePoll(): void {
    if (this.pollTimer || this.deps.stopping.aborted) return;
    this.pollTimer = this.deps.clock.setTimeout(() => {
      this.pollTimer = null;
      this.pump();
    }, this.deps.options.pollIntervalMs);
  }

  private publishBatch(session: SyncSession, batch: OutboxBatch): void {
    const { batcher, clock } = this.deps;
    let payload: Uint8Array;
    const batchId = this.batchCounter + 1;
    try {
      if (batch.lastRowId > this.durableRowId) {
        // Every row read so far was committed before this checkpoint, so all of it is durable after it.
        const readUpTo = batcher.readUpTo;
        this.deps.outbox.checkpoint();
        this.durableRowId = readUpTo;
      }
      payload = encodeDetectionBatch(
        {
          deviceId: this.deps.deviceId,
          batchId,
          sentAtMs: clock.now(),
          frames: batch.frames.map((f) => f.frame),
          detections: batch.frames.flatMap((f) => f.detections),
        },
        { maxBytes: DEFAULT_MAX_PAYLOAD_BYTES },
      );
    } catch (err) {
      if (err instanceof ProtoError) {
        this.quarantine(batch.frames, err);
        return;
      }
      // Not sent: back to the front of the queue, in order.
      batcher.unshift(batch.frames);
      throw err;
    }
    this.batchCounter = batchId;
    const entry: InFlight = {
      batchId,
      rowIds: batch.frames.map((f) => f.rowId),
      frames: batch.frames.length,
      detections: batch.detections,
      sentAt: clock.now(),
    };
    this.inFlight.set(batchId, entry);
    this.deps.status.counters.publishedBatches++;
    session.client.publish(
      this.deps.topic,
      Buffer.from(payload.buffer, payload.byteOffset, payload.length),
      { qos: 1 },
      (err) => this.onPuback(session, entry, err),
    );
  }

  /** PUBACK (or failure) of one batch. */
  private onPuback(session: SyncSession, entry: InFlight, err: Error | undefined): void {
    // A callback of a connection that is gone: its rows are read again on the next connection.
    if (!session.live || this.current !== session) return;
    this.inFlight.delete(entry.batchId);
    if (err && this.deps.stopping.aborted) return;
    const { status } = this.deps;
    if (err) {
      // A negative PUBACK (MQTT 5 reason code >= 0x80: not authorized, quota exceeded, …): the broker did
      // not take the batch. Keep the rows and start over on a new connection after the backoff.
      status.recordError('publish', err);
      session.client.end(true);
      return;
    }
    session.acks++;
    status.lastAckAt = this.deps.clock.now();
    try {
      this.deps.outbox.ack(entry.rowIds);
    } catch (ackErr) {
      // The broker has the rows; they stay in the outbox and are sent again after the next reconnect.
      status.recordError('outbox ack', ackErr);
    }
    status.counters.ackedBatches++;
    status.counters.ackedFrames += entry.frames;
    status.counters.ackedDetections += entry.detections;
    this.deps.observer?.batchAcked?.(entry.frames, entry.detections, this.deps.clock.now() - entry.sentAt);
    if (this.inFlight.size === 0) this.drained?.();
    this.pump();
  }

  /**
   * A batch the contract rejects (a NaN score, a label over 256 characters, one frame alone over 1 MiB) can
   * never be ingested, and keeping it would block every row behind it forever. Its bad frames are deleted,
   * counted and logged with their sequence numbers; the good ones go back to the front of the queue.
   */
  private quarantine(frames: readonly PendingFrame[], cause: ProtoError): void {
    const { good, bad } = this.sortByContract(frames);
    this.deps.batcher.unshift(good);
    const { status } = this.deps;
    if (bad.length === 0) {
      // Only the combination failed (not expected: sizes are exact and batchMaxBytes <= 1 MiB). Send these
      // frames one per batch instead of building the same batch again.
      status.recordError('encode', cause);
      this.singleFrameBatches = good.length;
      return;
    }
    const detections = bad.reduce((s, b) => s + b.frame.detections.length, 0);
    status.recordError('contract', bad[0]?.error);
    this.deps.logger.error('sync dropped frames the wire contract rejects', {
      frames: bad.length,
      detections,
      rejected: bad
        .slice(0, 10)
        .map((b) => ({ camera: b.frame.frame.cameraId, frameSeq: b.frame.frame.frameSeq, error: b.error.message })),
    });
    this.deps.outbox.ack(bad.map((b) => b.frame.rowId));
    status.counters.rejectedFrames += bad.length;
    status.counters.rejectedDetections += detections;
  }

  /** Each frame encoded alone: the ones the contract accepts and the ones it rejects, with why. */
  private sortByContract(frames: readonly PendingFrame[]): {
    good: PendingFrame[];
    bad: { frame: PendingFrame; error: ProtoError }[];
  } {
    const good: PendingFrame[] = [];
    const bad: { frame: PendingFrame; error: ProtoError }[] = [];
    for (const f of frames) {
      try {
        encodeDetectionBatch(
          { deviceId: this.deps.deviceId, batchId: 0, sentAtMs: 1, frames: [f.frame], detections: f.detections },
          { maxBytes: DEFAULT_MAX_PAYLOAD_BYTES },
        );
        good.push(f);
      } catch (err) {
        if (!(err instanceof ProtoError)) throw err;
        bad.push({ frame: f, error: err });
      }
    }
    return { good, bad };
  }
}
