import type { Backoff } from './backoff.js';
import { WakeableSleep } from './wakeable-sleep.js';

/** How one connection attempt ended. */
export interface AttemptEnd {
  /** Connected and useful: the backoff starts over. */
  readonly healthy: boolean;
  /** Try again at once, without counting a failure (e.g. a protocol downgrade). */
  readonly retryNow?: boolean;
}

export interface ReconnectLoopOptions {
  readonly backoff: Backoff;
  /** One connection, from connect to close; resolves when it is over and never rejects. */
  readonly attempt: () => Promise<AttemptEnd>;
  /** Before each attempt (e.g. state = 'connecting'). */
  readonly onConnecting?: () => void;
  /** Before each wait (e.g. state = 'waiting' and a log line with the delay). */
  readonly onWaiting?: (wait: { readonly delayMs: number; readonly attempt: number }) => void;
  /** After a wait that was not cut short by the end of the loop: a reconnect is starting. */
  readonly onReconnect?: () => void;
  /** Holds the delays; cut short when `signal` aborts. Default a WakeableSleep of its own. */
  readonly sleep?: WakeableSleep;
}

/**
 * The connect → back off → sleep loop of a client that keeps a connection open in the background: runs
 * `attempt` until `signal` aborts, waiting `backoff.next()` between attempts (reset after a healthy one).
 * The caller ends the connection in progress itself when it aborts.
 */
export class ReconnectLoop {
  constructor(private readonly options: ReconnectLoopOptions) {}

  async run(signal: AbortSignal): Promise<void> {
    const { backoff, attempt, onConnecting, onWaiting, onReconnect } = this.options;
    const sleep = this.options.sleep ?? new WakeableSleep();
    const wake = (): void => sleep.wake();
    signal.addEventListener('abort', wake);
    try {
      while (!signal.aborted) {
        onConnecting?.();
        const end = await attempt();
        if (signal.aborted) break;
        if (end.retryNow) continue;
        if (end.healthy) backoff.reset();
        const delayMs = backoff.next();
        onWaiting?.({ delayMs, attempt: backoff.attempts });
        await sleep.sleep(delayMs);
        if (!signal.aborted) onReconnect?.();
      }
    } finally {
      signal.removeEventListener('abort', wake);
    }
  }
}
