/** A delay that another part of the component can cut short (new work arrived, stop()). */
export class WakeableSleep {
  private wakeUp: (() => void) | null = null;

  /** Resolves after `ms`, or earlier on `wake()`. One sleep at a time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  /** Ends the current sleep now (nothing when none). */
  wake(): void {
    this.wakeUp?.();
  }
}
