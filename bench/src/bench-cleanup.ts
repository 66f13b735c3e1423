import { rmSync } from 'node:fs';
import { progress } from './bench-util.js';

/**
 * Undo steps of a benchmark, run last-in first-out at the end, on failure and on SIGINT/SIGTERM (then the
 * process exits 130), and the work directory removed last.
 */
export class BenchCleanup {
  private readonly steps: (() => unknown)[] = [];
  private shuttingDown: Promise<void> | null = null;
  /** Set once a signal arrived: what fails afterwards is only the work the cleanup pulled from under it. */
  interrupted = false;

  constructor(private readonly workDir: string) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        this.interrupted = true;
        progress(`${signal}: cleaning up`);
        void this.shutdown().finally(() => process.exit(130));
      });
    }
  }

  push(step: () => unknown): void {
    this.steps.push(step);
  }

  /** Runs one registered undo step now and forgets it. */
  async release(step: () => unknown): Promise<void> {
    const i = this.steps.lastIndexOf(step);
    if (i >= 0) this.steps.splice(i, 1);
    await step();
  }

  /**
   * Runs a benchmark: on success the undo steps, then its figures as one JSON line on stdout (the last
   * line); on failure the error on stderr, the undo steps and exit code 1.
   */
  async run(main: () => Promise<unknown>): Promise<void> {
    try {
      const figures = await main();
      await this.shutdown();
      console.log(JSON.stringify(figures));
    } catch (err) {
      process.exitCode = 1;
      // After a signal, what fails is only the work the cleanup pulled from under it.
      if (!this.interrupted) progress(`failed: ${(err as Error).stack ?? String(err)}`);
      await this.shutdown();
    }
  }

  /** Runs every undo step (once, however many callers) and removes the work directory. */
  shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      while (this.steps.length > 0) {
        try {
          await this.steps.pop()?.();
        } catch (err) {
          progress(`cleanup step failed: ${(err as Error).message}`);
        }
      }
      rmSync(this.workDir, { recursive: true, force: true });
    })();
    return this.shuttingDown;
  }
}
