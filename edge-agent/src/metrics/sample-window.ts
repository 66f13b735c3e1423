/**
 * The last `capacity` samples of one quantity (a ring buffer), for percentiles and means over recent
 * frames that Prometheus histograms, labelled by model rather than camera, cannot give per camera.
 */
export class SampleWindow {
  private readonly samples: Float64Array;
  private count = 0;
  private next = 0;

  constructor(readonly capacity: number) {
    this.samples = new Float64Array(capacity);
  }

  add(value: number): void {
    this.samples[this.next] = value;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  get size(): number {
    return this.count;
  }

  /** Nearest-rank percentile, p in [0, 100]; 0 when empty. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const sorted = this.samples.slice(0, this.count).sort();
    const rank = Math.min(this.count - 1, Math.max(0, Math.ceil((p / 100) * this.count) - 1));
    return sorted[rank]!;
  }

  /** 0 when empty. */
  mean(): number {
    if (this.count === 0) return 0;
    let sum = 0;
    for (let i = 0; i < this.count; i++) sum += this.samples[i]!;
    return sum / this.count;
  }
}
