/**
 * Async work run every `intervalMs` that never overlaps itself: a tick that finds the previous run still
 * going is skipped, not stacked on. A failed run is reported to `onError` and the next tick tries again.
 */
export interface PeriodicTaskOptions {
  readonly intervalMs: number;
  readonly run: () => Promise<void>;
  /** A run that rejected; must not throw. */
  readonly onError: (error: unknown) => void;
  /** Whether the timer keeps the process alive; default false (unref'd). */
  readonly keepAlive?: boolean;
}

export class PeriodicTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly options: PeriodicTaskOptions) {}

  /** Whether a run is in progress. */
  get busy(): boolean {
    return this.running !== null;
  }

  /** Starts ticking (the first run is one interval from now). Idempotent. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
    if (!this.options.keepAlive) this.timer.unref();
  }

  /** Stops ticking and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.options
      .run()
      .then(
        () => undefined,
        (error: unknown) => this.options.onError(error),
      )
      .finally(() => {
        this.running = null;
      });
  }
}
