/**
 * Validation of a synthetic camera's domain schedule at configuration time, by the scene
 * generator's own parser, so that a typo fails at start-up with the parser's reason instead of
 * when the first frame is rendered in the worker thread.
 */
import { parseSchedule, ScenesError, ScheduleClock } from '@edgefleet/scenes';

/** Null when `text` is a valid schedule, otherwise the reason (e.g. `segment 2 "fog" needs DOMAIN:DURATION_S`). */
export function scheduleProblem(text: string): string | null {
  try {
    // Built as the renderer builds it: the clock also resolves every domain of the schedule.
    new ScheduleClock(parseSchedule(text));
    return null;
  } catch (err) {
    if (err instanceof ScenesError) return err.message;
    throw err;
  }
}
