import { Backoff, WakeableSleep } from '@edgefleet/service-kit';
import { CpError, describeError } from '../errors.js';
import type { Logger } from '@edgefleet/service-kit';
import { isDataError } from '../storage/storage-errors.js';
import type { DetectionRow, FrameRow, Store } from '../storage/store.js';
import type { IngestStats } from './ingest-stats.js';
import type { Stoppable } from '@edgefleet/service-kit';

/**
 * Group commit of decoded rows into the Store. Messages queue their rows and wait; one flush (one
 * transaction) runs at a time and takes everything queued, up to `batchMaxRows`. While it runs the next
 * batch gathers, so under load batches grow by themselves and when idle a message waits at most
 * `flushIntervalMs` before its flush starts.
 *
 * A message's promise settles only after its rows are committed, and its transport acknowledges it
 * only then. Failures:
 * - a data error (the database refuses some row) is isolated by retrying the messages one by one; the
 *   guilty message resolves as rejected (`db-rejected`), the others are committed;
 * - anything else (connection lost, server restarting) is retried with exponential backoff, the
 *   messages staying unacknowledged meanwhile (the broker and the devices hold on to them);
 * - on stop, what is still queued after the drain timeout is abandoned: rejected with CP_ERR_INGEST so
 *   the transport does not acknowledge it and the data is sent again later.
 */

export type WriteOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'db-rejected'; readonly error: unknown };

export interface BatchWriterOptions {
  readonly batchMaxRows: number;
  readonly flushIntervalMs: number;
  readonly retryMaxDelayMs: number;
  /** How long stop() waits for queued rows to commit before abandoning them (unacknowledged). */
  readonly drainTimeoutMs: number;
}

export interface BatchWriterDeps {
  readonly store: Store;
  readonly stats: IngestStats;
  readonly logger: Logger;
}

interface Entry {
  readonly frames: readonly FrameRow[];
  readonly detections: readonly DetectionRow[];
  readonly rows: number;
  readonly resolve: (outcome: WriteOutcome) => void;
  readonly reject: (err: Error) => void;
}

const RETRY_MIN_MS = 50;

export class BatchWriter implements Stoppable {
  readonly name = 'ingest-batch-writer';
  private queue: Entry[] = [];
  private queuedRows = 0;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The pause before a retried flush; cut short when the writer gives up. */
  private readonly retryPause = new WakeableSleep();
  private stopping = false;
  /** Set when the stop timeout passed: no more retries. */
  private giveUp = false;

  constructor(
    private readonly options: BatchWriterOptions,
    private readonly deps: BatchWriterDeps,
  ) {}

  /** Queues one message's rows; resolves after they are committed (or isolated as refused by the database). */
  write(frames: readonly FrameRow[], detections: readonly DetectionRow[]): Promise<WriteOutcome> {
    if (this.stopping) return Promise.reject(new CpError('CP_ERR_INGEST', 'ingest is stopping'));
    return new Promise<WriteOutcome>((resolve, reject) => {
      const rows = frames.length + detections.length;
      this.queue.push({ frames, detections, rows, resolve, reject });
      this.queuedRows += rows;
      this.deps.stats.pendingRows += rows;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing) return; // the running flush takes the queue when it ends
    if (this.queuedRows >= this.options.batchMaxRows || this.options.flushIntervalMs === 0) {
      this.startFlush();
    } else {
      this.timer ??= setTimeout(() => this.startFlush(), this.options.flushIntervalMs);
    }
  }

  private startFlush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = null;
    });
  }

  /** Whole messages up to batchMaxRows (at least one, however big). */
  private take(): Entry[] {
    let rows = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || rows + (this.queue[n] as Entry).rows <= this.options.batchMaxRows)) {
      rows += (this.queue[n] as Entry).rows;
      n++;
    }
    this.queuedRows -= rows;
    return this.queue.splice(0, n);
  }

  private async flushLoop(): Promise<void> {
    const maxMs = this.options.retryMaxDelayMs;
    // Doubling from 50 ms (or the cap, when lower) without jitter: one writer per replica, nothing to spread.
    const backoff = new Backoff({ initialMs: Math.min(RETRY_MIN_MS, maxMs), maxMs, factor: 2, jitter: 0 });
    while (this.queue.length > 0) {
      const batch = this.take();
      const left = await this.flush(batch);
      if (left.length === 0) {
        backoff.reset();
        continue;
      }
      if (this.giveUp) {
        this.abandon(left);
        return;
      }
      // Transient failure: back to the front of the queue, in order, and try again after a pause.
      this.queue.unshift(...left);
      this.queuedRows += left.reduce((s, e) => s + e.rows, 0);
      this.deps.stats.flushRetries++;
      await this.retryPause.sleep(backoff.next());
      if (this.giveUp) return;
    }
  }

  /** Inserts a batch; returns the entries that must be retried (empty when all settled). */
  private async flush(batch: Entry[]): Promise<Entry[]> {
    const { store, stats, logger } = this.deps;
    try {
      const frames = batch.length === 1 ? (batch[0] as Entry).frames : batch.flatMap((e) => e.frames);
      const detections = batch.length === 1 ? (batch[0] as Entry).detections : batch.flatMap((e) => e.detections);
      const result = await store.insertBatch(frames, detections);
      stats.flushes++;
      stats.insertedFrames += result.insertedFrames;
      stats.insertedDetections += result.insertedDetections;
      stats.duplicateRows += result.duplicates;
      for (const e of batch) this.settle(e, { ok: true });
      return [];
    } catch (err) {
      if (!isDataError(err)) {
        logger.warn('ingest flush failed, will retry', { messages: batch.length, error: describeError(err) });
        return batch;
      }
      if (batch.length === 1) {
        this.settle(batch[0] as Entry, { ok: false, reason: 'db-rejected', error: err });
        return [];
      }
      // Some row is refused: find which message by inserting them one at a time.
      for (let i = 0; i < batch.length; i++) {
        const left = await this.flush([batch[i] as Entry]);
        if (left.length > 0) return [...left, ...batch.slice(i + 1)];
      }
      return [];
    }
  }

  private settle(e: Entry, outcome: WriteOutcome): void {
    this.deps.stats.pendingRows -= e.rows;
    e.resolve(outcome);
  }

  private abandon(entries: readonly Entry[]): void {
    for (const e of entries) {
      this.deps.stats.pendingRows -= e.rows;
      e.reject(new CpError('CP_ERR_INGEST', 'ingest stopped before the rows were committed'));
    }
  }

  /**
   * Stops taking rows and waits up to `timeoutMs` (default: the configured drain timeout) for everything queued to be committed; the rest is
   * abandoned (rejected, so never acknowledged). A statement still running then gets as long again to
   * settle (committed or abandoned) before stop returns; after that it settles on its own.
   */
  async stop(timeoutMs = this.options.drainTimeoutMs): Promise<void> {
    this.stopping = true;
    this.startFlush();
    const flushing = this.flushing;
    if (flushing && !(await settlesWithin(flushing, timeoutMs))) {
      this.giveUp = true;
      this.retryPause.wake();
      this.queuedRows = 0;
      this.abandon(this.queue.splice(0));
      await settlesWithin(flushing, timeoutMs);
    }
    this.queuedRows = 0;
    this.abandon(this.queue.splice(0));
  }
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
