import type { Clock, Logger } from '@edgefleet/service-kit';

/**
 * Logs at most `burst` lines per key per window; the next line after a quiet window reports how many
 * were suppressed. A flood of bad payloads must not turn into a flood of log lines.
 */
export class RateLimitedLog {
  private readonly windows = new Map<string, { start: number; count: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly options: { burst: number; windowMs: number; clock: Clock },
  ) {}

  warn(key: string, msg: string, fields: Record<string, unknown>): void {
    const now = this.options.clock.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.options.windowMs) {
      const suppressed = w?.suppressed ?? 0;
      w = { start: now, count: 0, suppressed: 0 };
      this.windows.set(key, w);
      if (suppressed > 0) fields = { ...fields, suppressedBefore: suppressed };
    }
    if (w.count < this.options.burst) {
      w.count++;
      this.logger.warn(msg, fields);
    } else {
      w.suppressed++;
    }
  }
}
