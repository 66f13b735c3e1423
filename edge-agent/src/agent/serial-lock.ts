/**
 * FIFO async lock. Cameras that share one detector take turns, in arrival order, so one busy
 * camera cannot starve another; on a CPU box running inferences one at a time is also fastest.
 */
export class SerialLock {
  private tail: Promise<void> = Promise.resolve();

  async run<T>(task: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await task();
    } finally {
      release();
    }
  }
}
