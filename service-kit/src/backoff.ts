/**
 * Exponential backoff with jitter: delay(n) = min(max, initial × factor^n), then spread by ±jitter (a
 * fraction) so that many clients failing together (a switch reboot, a broker restart) do not reconnect in
 * lockstep; never above max. The one formula for camera restarts, reconnects and retried calls.
 */
export interface BackoffOptions {
  /** First delay, ms. Default 500. */
  readonly initialMs: number;
  /** Growth per consecutive failure. Default 2. */
  readonly factor: number;
  /** Ceiling, ms. Default 30 000. */
  readonly maxMs: number;
  /** Relative spread in [0, 1): 0.2 means ±20 %. Default 0.2. */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, factor: 2, maxMs: 30_000, jitter: 0.2 };

/** Exponents above this cannot change the result (2^30 × 1 ms is above any sensible max). */
const MAX_EXPONENT = 30;

export class Backoff {
  private readonly options: BackoffOptions;
  private attempt = 0;

  /** @param random returns [0, 1); injectable for deterministic tests. */
  constructor(
    options: Partial<BackoffOptions> = {},
    private readonly random: () => number = Math.random,
  ) {
    const o = { ...DEFAULT_BACKOFF, ...options };
    if (!(o.initialMs >= 0) || !(o.factor >= 1) || !(o.maxMs >= o.initialMs) || !(o.jitter >= 0 && o.jitter < 1)) {
      throw new RangeError(
        `invalid backoff: need initialMs >= 0, factor >= 1, maxMs >= initialMs, 0 <= jitter < 1, got ${JSON.stringify(o)}`,
      );
    }
    this.options = o;
  }

  /** Consecutive failures counted so far. */
  get attempts(): number {
    return this.attempt;
  }

  /** Delay before the next try; counts one more consecutive failure. */
  next(): number {
    const delay = this.delay(this.attempt);
    this.attempt += 1;
    return delay;
  }

  /** Delay before retry number `attempt` (0-based), for callers that count their own attempts. */
  delay(attempt: number): number {
    const { initialMs, factor, maxMs, jitter } = this.options;
    const base = Math.min(maxMs, initialMs * factor ** Math.min(attempt, MAX_EXPONENT));
    const spread = base * jitter * (2 * this.random() - 1);
    return Math.max(0, Math.min(maxMs, Math.round(base + spread)));
  }

  /** After a healthy run the next failure starts again from `initialMs`. */
  reset(): void {
    this.attempt = 0;
  }
}
