import { EdgeError } from '../errors.js';
import type { Notifier } from './sd-notify.js';

export type WatchdogTick = 'sent' | 'withheld';

export interface WatchdogDeps {
  readonly notifier: Notifier;
  /** Defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Defaults to process.pid (WATCHDOG_PID is compared with it). */
  readonly pid?: number;
  /** Each timer tick: whether WATCHDOG=1 went out or was withheld because no kick came. */
  readonly onTick?: (tick: WatchdogTick) => void;
  /** A failed send (EDGE_ERR_SD_NOTIFY); the timer keeps running, so log it. */
  readonly onError: (err: unknown) => void;
}

/**
 * Parses WATCHDOG_USEC / WATCHDOG_PID like sd_watchdog_enabled(3): the watchdog applies to this process
 * when WATCHDOG_USEC is set and WATCHDOG_PID is unset or equal to our pid. Returns the interval in µs,
 * or null when disabled. Throws EDGE_ERR_SD_NOTIFY for malformed values.
 */
export function watchdogIntervalUsec(env: NodeJS.ProcessEnv, pid: number): number | null {
  const usec = env.WATCHDOG_USEC;
  if (usec === undefined || usec === '') return null;
  if (!/^[0-9]+$/.test(usec) || Number(usec) <= 0 || !Number.isSafeInteger(Number(usec))) {
    throw new EdgeError(
      'EDGE_ERR_SD_NOTIFY',
      `WATCHDOG_USEC must be a positive integer (microseconds), got ${JSON.stringify(usec)}`,
    );
  }
  const wpid = env.WATCHDOG_PID;
  if (wpid !== undefined && wpid !== '') {
    if (!/^[0-9]+$/.test(wpid))
      throw new EdgeError('EDGE_ERR_SD_NOTIFY', `WATCHDOG_PID must be a process id, got ${JSON.stringify(wpid)}`);
    // The watchdog was meant for another process (e.g. we are a child of the service's main process).
    if (Number(wpid) !== pid) return null;
  }
  return Number(usec);
}

/**
 * Keeps systemd's watchdog fed only while the agent's main loop proves it is alive: the loop calls
 * `kick()`, and the timer sends WATCHDOG=1 only if a kick came since the previous send. A hung loop
 * (or a blocked event loop, which stops the timer too) therefore gets the service restarted.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | null = null;
  private kicked = false;
  private interval: number | null = null;

  constructor(private readonly deps: WatchdogDeps) {}

  /** Send period in ms while running, or null when the watchdog is disabled or stopped. */
  get periodMs(): number | null {
    return this.interval;
  }

  /** Starts the timer when systemd asked for a watchdog; returns whether it did. */
  start(): boolean {
    if (this.timer) return true;
    const usec = watchdogIntervalUsec(this.deps.env ?? process.env, this.deps.pid ?? process.pid);
    if (usec === null || !this.deps.notifier.enabled) return false;
    // sd_notify(3): WATCHDOG_USEC/2 — ping at half the interval so one late tick does not trip it.
    this.interval = Math.max(1, Math.floor(usec / 2 / 1000));
    // Start-up itself counts as progress for the first period.
    this.kicked = true;
    this.timer = setInterval(() => this.tick(), this.interval);
    // The watchdog must never be what keeps the process alive.
    this.timer.unref();
    return true;
  }

  /** Called by the main loop whenever it made progress. Cheap: only sets a flag. */
  kick(): void {
    this.kicked = true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.interval = null;
  }

  private tick(): void {
    if (!this.kicked) {
      this.deps.onTick?.('withheld');
      return;
    }
    this.kicked = false;
    try {
      this.deps.notifier.watchdog();
    } catch (err) {
      this.deps.onError(err);
      return;
    }
    this.deps.onTick?.('sent');
  }
}
