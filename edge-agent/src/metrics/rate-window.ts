/**
 * Events per second over a sliding window, in fixed time buckets: O(1) per event and bounded memory
 * whatever the rate (a 1000 fps synthetic source costs the same as a 5 fps camera).
 */
export class RateWindow {
  private readonly counts: number[];
  private readonly bucketMs: number;
  /** Bucket index (time / bucketMs) the slot at `head` holds. */
  private headBucket = -1;
  private head = 0;
  private firstEventMs: number | null = null;

  constructor(
    readonly windowMs = 5000,
    buckets = 20,
  ) {
    this.bucketMs = windowMs / buckets;
    this.counts = new Array<number>(buckets).fill(0);
  }

  add(nowMs: number, n = 1): void {
    this.advance(nowMs);
    this.counts[this.head] = (this.counts[this.head] as number) + n;
    this.firstEventMs ??= nowMs;
  }

  /** Rate over the window, or over the time since the first event while the window is not yet full. */
  rate(nowMs: number): number {
    if (this.firstEventMs === null) return 0;
    this.advance(nowMs);
    const total = this.counts.reduce((a, b) => a + b, 0);
    // The buckets cover [start of the oldest bucket, now); while the stream is younger than that,
    // count from its first event so a new stream is not under-reported.
    const oldestBucketStart = (this.headBucket - this.counts.length + 1) * this.bucketMs;
    const spanMs = nowMs - Math.max(oldestBucketStart, this.firstEventMs);
    return spanMs > 0 ? total / (spanMs / 1000) : 0;
  }

  private advance(nowMs: number): void {
    const bucket = Math.floor(nowMs / this.bucketMs);
    if (this.headBucket < 0) {
      this.headBucket = bucket;
      return;
    }
    const steps = bucket - this.headBucket;
    if (steps <= 0) return; // same bucket, or a clock step backwards: keep counting in the current one
    const n = this.counts.length;
    for (let i = 0; i < Math.min(steps, n); i++) {
      this.head = (this.head + 1) % n;
      this.counts[this.head] = 0;
    }
    this.headBucket = bucket;
  }
}
