/**
 * The time seam of a program (MQTT.js' injectable `Timer`): wall-clock milliseconds and the timers that
 * go with them. A composition root builds one (`systemClock` in production) and hands it to every
 * component, so tests can run a component on a fake clock without a `now?` option on each.
 */
export type TimerHandle = unknown;

export interface Clock {
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
