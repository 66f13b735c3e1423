import type { ModelStatusReport } from '@edgefleet/proto';
import { describeError } from '../errors.js';
import { type Logger, WakeableSleep } from '@edgefleet/service-kit';
import type { Component } from '@edgefleet/service-kit';

export interface StatusReporterDeps {
  /** Delivers one report; rejects when it did not arrive. */
  readonly send: (report: ModelStatusReport) => Promise<void>;
  readonly retryDelay: (attempt: number) => number;
  readonly logger: Logger;
  /** Reports held while the control plane is unreachable, at most; default 10 000 (the oldest progress reports go first). */
  readonly maxQueue?: number;
  /** How long stop() gives queued reports to go out; default 1000 ms. */
  readonly drainTimeoutMs?: number;
}

export interface StatusReporterStats {
  readonly queued: number;
  readonly sent: number;
  /** Dropped because the queue was full while offline. */
  readonly dropped: number;
}

const sameProgress = (a: ModelStatusReport, b: ModelStatusReport) =>
  a.state === 'downloading' &&
  b.state === 'downloading' &&
  a.cameraId === b.cameraId &&
  a.sha256 === b.sha256 &&
  a.revision === b.revision &&
  a.arm === b.arm;

/**
 * Model status reports, delivered in order, one at a time: queued in memory, retried with backoff while the
 * control plane is unreachable. A newer download progress report replaces a queued one of the same download.
 */
export class StatusReporter implements Component {
  readonly name = 'status-reporter';
  private readonly queue: ModelStatusReport[] = [];
  private sending = false;
  private stopped = false;
  private running: Promise<void> | null = null;
  private readonly idle = new WakeableSleep();
  /** Sleeping because the queue was empty (a push ends that sleep; it never cuts a retry backoff short). */
  private waitingForWork = false;
  private sent = 0;
  private dropped = 0;

  constructor(private readonly deps: StatusReporterDeps) {}

  async start(_signal?: AbortSignal): Promise<void> {
    this.stopped = false;
    this.running ??= this.loop();
  }

  push(report: ModelStatusReport): void {
    const last = this.queue[this.queue.length - 1];
    // The head may be in flight: never replace it.
    if (last && sameProgress(last, report) && !(this.sending && this.queue.length === 1)) {
      this.queue[this.queue.length - 1] = report;
    } else {
      this.queue.push(report);
    }
    const max = this.deps.maxQueue ?? 10_000;
    while (this.queue.length > max) {
      const start = this.sending ? 1 : 0;
      const progress = this.queue.findIndex((r, i) => i >= start && r.state === 'downloading');
      this.queue.splice(progress >= 0 ? progress : start, 1);
      this.dropped++;
    }
    if (this.waitingForWork) this.idle.wake();
  }

  stats(): StatusReporterStats {
    return { queued: this.queue.length, sent: this.sent, dropped: this.dropped };
  }

  /**
   * Gives queued reports up to `timeoutMs` (default `drainTimeoutMs`, 1 s) to go out, then stops (what is
   * left is lost with the process).
   */
  async stop(timeoutMs = this.deps.drainTimeoutMs ?? 1000): Promise<void> {
    if (this.queue.length > 0 && timeoutMs > 0) {
      // One more attempt now rather than after the current backoff.
      this.idle.wake();
      const deadline = Date.now() + timeoutMs;
      while (this.queue.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    }
    this.stopped = true;
    this.idle.wake();
    await this.running;
    this.running = null;
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      const head = this.queue[0];
      if (!head) {
        this.waitingForWork = true;
        await this.idle.sleep(60_000);
        this.waitingForWork = false;
        continue;
      }
      this.sending = true;
      try {
        await this.deps.send(head);
        this.queue.shift();
        this.sent++;
        attempt = 0;
      } catch (err) {
        if (attempt === 0)
          this.deps.logger.warn('model status report not delivered; retrying', {
            queued: this.queue.length,
            error: describeError(err),
          });
        await this.idle.sleep(this.deps.retryDelay(attempt++));
      } finally {
        this.sending = false;
      }
    }
  }
}
