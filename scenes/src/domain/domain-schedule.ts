/**
 * A live camera's domain over time: segments that each last `durationS`, optionally fading in from
 * the previous segment over their first `transitionS` seconds.
 *
 * Text form: `SEGMENT[,SEGMENT...]` with `SEGMENT = DOMAIN:DURATION_S[~TRANSITION_S]`, e.g.
 * `day:300,fog:300~30,night@0.5+rain:120~10`.
 */

import { ScenesError } from '../errors.js';
import {
  DAY,
  formatDomain,
  interpolateParams,
  parseDomain,
  resolveDomain,
  type DomainParams,
  type DomainSpec,
} from './domain-spec.js';

export interface ScheduleSegment {
  readonly domain: DomainSpec;
  readonly durationS: number;
  /** Seconds at the start of this segment spent blending from the previous one; default 0. */
  readonly transitionS?: number;
}

export type DomainSchedule = readonly ScheduleSegment[];

export interface DomainState {
  readonly params: DomainParams;
  /** Human-readable: the segment's domain, or `a->b 40%` inside a transition. */
  readonly label: string;
  readonly segment: number;
}

export function parseSchedule(text: string): ScheduleSegment[] {
  if (text.trim() === '')
    throw new ScenesError('SCENES_ERR_SCHEDULE', 'empty schedule (expected e.g. day:300,fog:300~30)');
  return text.split(',').map((raw, i) => {
    const part = raw.trim();
    const colon = part.lastIndexOf(':');
    if (colon < 0) throw new ScenesError('SCENES_ERR_SCHEDULE', `segment ${i + 1} "${part}" needs DOMAIN:DURATION_S`);
    const domain = parseDomain(part.slice(0, colon));
    const [durText = '', transText, extra] = part.slice(colon + 1).split('~');
    if (extra !== undefined)
      throw new ScenesError('SCENES_ERR_SCHEDULE', `segment ${i + 1} "${part}" has more than one ~`);
    const durationS = Number(durText);
    const transitionS = transText === undefined ? 0 : Number(transText);
    const segment: ScheduleSegment = { domain, durationS, transitionS };
    validateSegment(segment, i);
    if (durText.trim() === '' || (transText !== undefined && transText.trim() === '')) {
      throw new ScenesError('SCENES_ERR_SCHEDULE', `segment ${i + 1} "${part}" has an empty number`);
    }
    return segment;
  });
}

function validateSegment(s: ScheduleSegment, i: number): void {
  if (!Number.isFinite(s.durationS) || s.durationS <= 0) {
    throw new ScenesError(
      'SCENES_ERR_SCHEDULE',
      `segment ${i + 1}: duration must be a positive number of seconds, got ${String(s.durationS)}`,
    );
  }
  const tr = s.transitionS ?? 0;
  if (!Number.isFinite(tr) || tr < 0 || tr > s.durationS) {
    throw new ScenesError(
      'SCENES_ERR_SCHEDULE',
      `segment ${i + 1}: transition must be within 0..duration (${s.durationS}s), got ${String(tr)}`,
    );
  }
}

/** Validated, resolved schedule that answers "which domain at time t". */
export class ScheduleClock {
  private readonly params: DomainParams[];
  private readonly starts: number[];
  readonly totalS: number;

  constructor(
    private readonly segments: DomainSchedule,
    private readonly loop = false,
  ) {
    if (segments.length === 0) throw new ScenesError('SCENES_ERR_SCHEDULE', 'schedule has no segments');
    segments.forEach(validateSegment);
    this.params = segments.map((s) => resolveDomain(s.domain));
    this.starts = [];
    let t = 0;
    for (const s of segments) {
      this.starts.push(t);
      t += s.durationS;
    }
    this.totalS = t;
  }

  /** Domain at `tS` seconds from the start; past the end the last segment holds, or the schedule loops. */
  at(tS: number): DomainState {
    let t = Math.max(0, tS);
    if (this.loop) t %= this.totalS;
    let i = this.segments.length - 1;
    for (let k = 0; k < this.segments.length; k++) {
      if (t < (this.starts[k] as number) + (this.segments[k] as ScheduleSegment).durationS) {
        i = k;
        break;
      }
    }
    const seg = this.segments[i] as ScheduleSegment;
    const target = this.params[i] as DomainParams;
    const into = t - (this.starts[i] as number);
    const tr = seg.transitionS ?? 0;
    const hasPrevious = i > 0 || this.loop;
    if (tr > 0 && into < tr && hasPrevious) {
      const prevIndex = i > 0 ? i - 1 : this.segments.length - 1;
      const prev = this.params[prevIndex] ?? DAY;
      const u = into / tr;
      const prevSeg = this.segments[prevIndex] as ScheduleSegment;
      return {
        params: interpolateParams(prev, target, u),
        label: `${formatDomain(prevSeg.domain)}->${formatDomain(seg.domain)} ${Math.round(u * 100)}%`,
        segment: i,
      };
    }
    return { params: target, label: formatDomain(seg.domain), segment: i };
  }
}
