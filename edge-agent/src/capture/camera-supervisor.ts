/**
 * Restart policy of one camera, independent of GStreamer: runs are launched through `launch`,
 * report frames, failures and a normal end, and are torn down and relaunched with exponential
 * backoff on failure or stall. State machine:
 *
 *   starting ──frame──▶ running ──failure/stall──▶ reconnecting ──(backoff)──▶ relaunch ──frame──▶ running
 *       │                  │                           │
 *       └──failure─────────┴──────▶ reconnecting       └── restarts exhausted ──▶ failed
 *   any ──end of a non-looping file──▶ stopped          any ──stop()──▶ stopped
 *
 * The consecutive-failure count (and so the delay) resets when a run has delivered frames for
 * `healthyResetMs` before failing.
 */
import type { CameraState } from './frame-source.js';
import { describeError, EdgeError } from '../errors.js';
import type { Backoff, Clock, TimerHandle } from '@edgefleet/service-kit';

export interface RunCallbacks {
  frame(): void;
  fail(error: EdgeError): void;
  finish(): void;
}

/** One launched attempt (a pipeline run), as the supervisor sees it. */
export interface SupervisedRun {
  /** Since when the run has been waiting for a frame, or null when nothing is awaited. */
  waitingSince(): number | null;
  /** Starts teardown synchronously; resolves when it is complete. */
  close(): Promise<unknown>;
}

/** Launch one run; rejects (preferably with an EdgeError) when it cannot even start. */
export type LaunchFn = (callbacks: RunCallbacks) => Promise<SupervisedRun>;

export interface SupervisorOptions {
  /** No frame for this long while one is awaited → EDGE_ERR_SOURCE_STALLED and a restart. Default 10 000. */
  readonly stallTimeoutMs?: number;
  /** Restarts allowed before giving up in state 'failed'. Default unlimited. */
  readonly maxRestarts?: number;
  /** A run that delivered frames this long resets the backoff. Default 30 000. */
  readonly healthyResetMs?: number;
}

export interface SupervisorSnapshot {
  readonly state: CameraState;
  readonly lastError: string | null;
  readonly lastErrorCode: EdgeError['code'] | null;
  readonly lastErrorAt: number | null;
  readonly restarts: number;
  readonly lastFrameAt: number | null;
}

export interface FailureInfo {
  readonly error: EdgeError;
  /** Delay before the next attempt, or null when restarts are exhausted. */
  readonly restartInMs: number | null;
}

export interface SupervisorDeps {
  readonly launch: LaunchFn;
  readonly timers: Clock;
  readonly backoff: Backoff;
  readonly options?: SupervisorOptions;
  readonly onChange: (snapshot: SupervisorSnapshot) => void;
  readonly onFailure?: (info: FailureInfo) => void;
  /** Called once when the source finished for good (end of file, restarts exhausted). */
  readonly onEnd?: () => void;
}

export class CameraSupervisor {
  private state: CameraState = 'stopped';
  private lastError: string | null = null;
  private lastErrorCode: EdgeError['code'] | null = null;
  private lastErrorAt: number | null = null;
  private restarts = 0;
  private lastFrameAt: number | null = null;
  private runningSince: number | null = null;
  private generation = 0;
  private run: SupervisedRun | null = null;
  private restartTimer: TimerHandle | null = null;
  private watchdog: TimerHandle | null = null;
  private readonly closing = new Set<Promise<unknown>>();
  private stopped = false;
  private started = false;

  constructor(private readonly deps: SupervisorDeps) {}

  private get stallTimeoutMs(): number {
    return this.deps.options?.stallTimeoutMs ?? 10_000;
  }

  snapshot(): SupervisorSnapshot {
    return {
      state: this.state,
      lastError: this.lastError,
      lastErrorCode: this.lastErrorCode,
      lastErrorAt: this.lastErrorAt,
      restarts: this.restarts,
      lastFrameAt: this.lastFrameAt,
    };
  }

  /** Launch the first run; resolves once it has been launched (or its launch failed and a retry is scheduled). */
  async start(): Promise<void> {
    if (this.started) throw new Error('CameraSupervisor.start() called twice');
    this.started = true;
    const { stallTimeoutMs = 10_000, maxRestarts = Infinity, healthyResetMs = 30_000 } = this.deps.options ?? {};
    if (!(stallTimeoutMs > 0) || !(maxRestarts >= 0) || !(healthyResetMs >= 0)) {
      throw new RangeError(`invalid supervisor options ${JSON.stringify(this.deps.options)}`);
    }
    this.setState('starting');
    this.armWatchdog();
    await this.launch();
  }

  /** Tear down the current run, cancel timers; resolves when every run's teardown completed. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.generation += 1;
    if (this.restartTimer !== null) this.deps.timers.clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.disarmWatchdog();
    this.closeRun();
    if (this.state !== 'stopped') this.setState('stopped');
    await Promise.all([...this.closing]);
  }

  private async launch(): Promise<void> {
    const gen = ++this.generation;
    const current = (): boolean => gen === this.generation && !this.stopped;
    const callbacks: RunCallbacks = {
      frame: () => {
        if (current()) this.onFrame();
      },
      fail: (error) => {
        if (current()) this.onFailure(error);
      },
      finish: () => {
        if (current()) this.onFinish();
      },
    };
    let run: SupervisedRun;
    try {
      run = await this.deps.launch(callbacks);
    } catch (err) {
      if (!current()) return;
      this.onFailure(
        err instanceof EdgeError ? err : new EdgeError('EDGE_ERR_PIPELINE', describeError(err), { cause: err }),
      );
      return;
    }
    if (!current() || this.run !== null) {
      // Stopped, or the run failed from inside launch (a callback fired before it returned).
      this.track(run.close());
      return;
    }
    this.run = run;
  }

  private onFrame(): void {
    const now = this.deps.timers.now();
    this.lastFrameAt = now;
    if (this.state !== 'running') {
      this.runningSince = now;
      this.setState('running');
    }
  }

  private onFailure(error: EdgeError): void {
    const now = this.deps.timers.now();
    this.generation += 1; // late callbacks of the failed run are ignored
    this.closeRun();
    this.lastError = describeError(error);
    this.lastErrorCode = error.code;
    this.lastErrorAt = now;
    const healthyResetMs = this.deps.options?.healthyResetMs ?? 30_000;
    if (this.runningSince !== null && now - this.runningSince >= healthyResetMs) this.deps.backoff.reset();
    this.runningSince = null;
    const maxRestarts = this.deps.options?.maxRestarts ?? Infinity;
    if (this.restarts >= maxRestarts) {
      this.disarmWatchdog();
      this.setState('failed');
      this.deps.onFailure?.({ error, restartInMs: null });
      this.deps.onEnd?.();
      return;
    }
    const delay = this.deps.backoff.next();
    this.setState('reconnecting');
    this.deps.onFailure?.({ error, restartInMs: delay });
    this.restartTimer = this.deps.timers.setTimeout(() => {
      this.restartTimer = null;
      if (this.stopped) return;
      this.restarts += 1;
      this.deps.onChange(this.snapshot());
      void this.launch();
    }, delay);
  }

  private onFinish(): void {
    this.generation += 1;
    this.disarmWatchdog();
    this.closeRun();
    this.runningSince = null;
    this.setState('stopped');
    this.deps.onEnd?.();
  }

  /** Teardown starts synchronously (callers may be inside a GStreamer callback); completion is tracked for stop(). */
  private closeRun(): void {
    const run = this.run;
    this.run = null;
    if (run !== null) this.track(run.close());
  }

  private track(p: Promise<unknown>): void {
    const settled = p.then(
      () => undefined,
      (err: unknown) => {
        // Teardown failures must not break supervision; they are recorded like any other error.
        this.lastError = `teardown failed: ${describeError(err)}`;
        this.lastErrorAt = this.deps.timers.now();
      },
    );
    this.closing.add(settled);
    void settled.then(() => this.closing.delete(settled));
  }

  private armWatchdog(): void {
    const interval = Math.max(20, Math.min(1000, Math.floor(this.stallTimeoutMs / 4)));
    this.watchdog = this.deps.timers.setTimeout(() => {
      this.watchdog = null;
      if (this.stopped) return;
      this.checkStall();
      if (!this.stopped && this.state !== 'failed' && this.state !== 'stopped') this.armWatchdog();
    }, interval);
  }

  private disarmWatchdog(): void {
    if (this.watchdog !== null) this.deps.timers.clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  private checkStall(): void {
    const since = this.run?.waitingSince() ?? null;
    if (since === null) return;
    const waited = this.deps.timers.now() - since;
    if (waited >= this.stallTimeoutMs) {
      this.onFailure(
        new EdgeError('EDGE_ERR_SOURCE_STALLED', `no frame for ${waited} ms (stallTimeoutMs ${this.stallTimeoutMs})`),
      );
    }
  }

  private setState(state: CameraState): void {
    this.state = state;
    this.deps.onChange(this.snapshot());
  }
}
