import { type Clock, systemClock } from './clock.js';

/** A delay that another part of the component can cut short (new work arrived, stop()). */
export class WakeableSleep {
  private wakeUp: (() => void) | null = null;

  constructor(private readonly clock: Clock = systemClock) {}

  /** Resolves after `ms`, or earlier on `wake()`. One sleep at a time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.clock.clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
      const timer = this.clock.setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  /** Ends the current sleep now (nothing when none). */
  wake(): void {
    this.wakeUp?.();
  }
}
