/**
 * A live synthetic camera: successive frames of one street scene with moving people, bicycles and
 * cars, whose domain follows a schedule (e.g. `day:300,fog:300~30`). Frames are pure functions of
 * (seed, index), which keeps replays and tests exact.
 */

import { parseSchedule, ScheduleClock, type DomainSchedule } from '../domain/domain-schedule.js';
import type { DomainParams } from '../domain/domain-spec.js';
import { ScenesError } from '../errors.js';
import type { ObjectSpec, SceneDescription } from '../objects/object-spec.js';
import { hashSeed, Rng } from '../prng.js';
import { renderScene, type GroundTruthBox } from '../render/render-scene.js';
import { sampleDistractor } from '../sampling/sample-objects.js';
import { GroundPlane, sampleBackground, sampleSkyline } from '../sampling/sample-scene.js';
import { Traffic } from './traffic.js';

export interface SceneStreamOptions {
  /** Segments, or their text form `DOMAIN:DURATION_S[~TRANSITION_S],...`. */
  readonly domainSchedule: DomainSchedule | string;
  readonly seed?: number;
  /** Default 640×480. */
  readonly width?: number;
  readonly height?: number;
  /** Frames per second of stream time; default 10. */
  readonly fps?: number;
  /** Restart the schedule after its last segment instead of holding it; default false. */
  readonly loop?: boolean;
  /** Mean objects entering the scene per 20 s; default 8. */
  readonly density?: number;
  /** Sensor noise on/off; default true. */
  readonly noise?: boolean;
}

export interface SceneFrame {
  readonly index: number;
  /** Stream time of this frame, milliseconds from the start. */
  readonly timestampMs: number;
  readonly width: number;
  readonly height: number;
  readonly format: 'RGB';
  /** Packed RGB, `width * height * 3` bytes. */
  readonly data: Uint8Array;
  readonly labels: GroundTruthBox[];
  readonly domain: DomainParams;
  /** e.g. `fog` or `day->fog 40%`. */
  readonly domainLabel: string;
}

function positiveInt(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 8 || v > max)
    throw new ScenesError('SCENES_ERR_ARGS', `${name} must be an integer within 8..${max}, got ${v}`);
  return v;
}

export class SceneStream implements Iterable<SceneFrame> {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  private readonly seed: number;
  private readonly clock: ScheduleClock;
  private readonly traffic: Traffic;
  private readonly staticObjects: ObjectSpec[];
  private readonly base: Omit<SceneDescription, 'objects'>;
  private readonly noise: boolean;
  private nextIndex = 0;

  constructor(options: SceneStreamOptions) {
    this.width = positiveInt('width', options.width ?? 640, 8192);
    this.height = positiveInt('height', options.height ?? 480, 8192);
    this.fps = options.fps ?? 10;
    if (!Number.isFinite(this.fps) || this.fps <= 0 || this.fps > 240)
      throw new ScenesError('SCENES_ERR_ARGS', `fps must be within (0, 240], got ${this.fps}`);
    const density = options.density ?? 8;
    if (!Number.isFinite(density) || density < 0 || density > 100)
      throw new ScenesError('SCENES_ERR_ARGS', `density must be within 0..100, got ${density}`);
    this.seed = (options.seed ?? 0) >>> 0;
    this.noise = options.noise ?? true;
    const schedule =
      typeof options.domainSchedule === 'string' ? parseSchedule(options.domainSchedule) : options.domainSchedule;
    this.clock = new ScheduleClock(schedule, options.loop ?? false);
    const rng = new Rng(hashSeed(this.seed, 0x5ce0e));
    const background = sampleBackground(rng, this.width, this.height);
    const ground = new GroundPlane(background.horizon, this.height, this.height * rng.range(0.45, 0.7));
    this.base = { width: this.width, height: this.height, background };
    this.staticObjects = [...sampleSkyline(rng, this.width, this.height, background.horizon)];
    // A few fixed pieces of street furniture that everything moves behind or in front of.
    const n = rng.int(2, 6);
    for (let k = 0; k < n; k++) {
      const d = ground.sampleDepth(rng, this.height * 0.05);
      const shape = rng.pick(['sign', 'lamp', 'lamp', 'bush', 'bin', 'tree', 'cone'] as const);
      this.staticObjects.push(
        sampleDistractor(rng, shape, rng.range(0, this.width), ground.yAt(d), d * ground.personAtBottom),
      );
    }
    this.traffic = new Traffic(this.seed, this.width, ground, background, density);
  }

  /** Scene content at `tS` seconds of stream time. */
  sceneAt(tS: number): SceneDescription {
    return { ...this.base, objects: [...this.staticObjects, ...this.traffic.at(tS)] };
  }

  frameAt(index: number): SceneFrame {
    if (!Number.isInteger(index) || index < 0)
      throw new ScenesError('SCENES_ERR_ARGS', `frame index must be a non-negative integer, got ${index}`);
    const tS = index / this.fps;
    const state = this.clock.at(tS);
    const rendered = renderScene(this.sceneAt(tS), state.params, {
      seed: hashSeed(this.seed, index),
      noise: this.noise,
    });
    return {
      index,
      timestampMs: Math.round(tS * 1000),
      width: this.width,
      height: this.height,
      format: 'RGB',
      data: rendered.data,
      labels: rendered.labels,
      domain: state.params,
      domainLabel: state.label,
    };
  }

  /** The next frame in sequence (the stream never ends; past the schedule the last domain holds or it loops). */
  next(): SceneFrame {
    return this.frameAt(this.nextIndex++);
  }

  *[Symbol.iterator](): Iterator<SceneFrame> {
    for (;;) yield this.next();
  }
}

/**
 * @example
 * const stream = createSceneStream({ domainSchedule: 'day:300,fog:300~30', seed: 1, fps: 10 });
 * const frame = stream.next(); // frame.data: 640×480 RGB, frame.labels: exact boxes
 */
export function createSceneStream(options: SceneStreamOptions): SceneStream {
  return new SceneStream(options);
}
