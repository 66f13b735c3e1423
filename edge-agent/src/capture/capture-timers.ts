/**
 * Clock and timers used by capture supervision, injectable so backoff and stall tests run on a
 * fake clock (MQTT.js-style injectable Timer).
 */
export type TimerHandle = unknown;

export interface CaptureTimers {
  /** Wall-clock milliseconds (frame timestamps, status times, healthy-run measurement). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemTimers: CaptureTimers = {
  now: () => Date.now(),
  // Referenced: a source waiting to reconnect is work in progress (stop() clears every timer).
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
