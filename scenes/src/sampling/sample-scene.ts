/**
 * Random street scenes: a background with horizon, ground and road, distant buildings and trees,
 * labelled objects (person, bicycle with or without rider, car) and clutter, all placed on a flat
 * ground plane in perspective (size proportional to the distance below the horizon).
 */

import type {
  DistractorShape,
  DistractorSpec,
  ObjectSpec,
  ProceduralBackground,
  SceneDescription,
} from '../objects/object-spec.js';
import { Rng } from '../prng.js';
import * as P from './palettes.js';
import { sampleBicycle, sampleCar, sampleDistractor, samplePerson } from './sample-objects.js';

export interface SceneSamplerOptions {
  /** Labelled-class objects per scene, inclusive range. Default 1..8. */
  readonly objects?: readonly [number, number];
  /** Unlabelled clutter per scene, inclusive range. Default 2..9. */
  readonly distractors?: readonly [number, number];
}

/** Flat-ground perspective shared by everything placed in one scene. */
export class GroundPlane {
  constructor(
    readonly horizon: number,
    readonly height: number,
    /** Height in pixels of a person standing on the frame's bottom row. */
    readonly personAtBottom: number,
  ) {}

  /** Row of a ground point at relative depth `d` (0 = horizon, 1 = frame bottom). */
  yAt(d: number): number {
    return this.horizon + d * (this.height - this.horizon);
  }

  depthAt(y: number): number {
    return (y - this.horizon) / Math.max(1, this.height - this.horizon);
  }

  personHeightAt(y: number): number {
    return Math.max(0, this.depthAt(y)) * this.personAtBottom;
  }

  /** Random depth biased toward far (small) objects, nearest a bit below the frame edge. */
  sampleDepth(rng: Rng, minPersonPx: number): number {
    const dMin = Math.min(0.9, Math.max(0.04, minPersonPx / this.personAtBottom));
    return dMin + (1.12 - dMin) * rng.next() ** 1.3;
  }
}

export function sampleBackground(rng: Rng, width: number, height: number): ProceduralBackground {
  const [groundNear, groundFar] = rng.pick(P.GROUND);
  const withRoad = rng.chance(0.8);
  const gray = rng.range(65, 110);
  return {
    kind: 'procedural',
    horizon: height * rng.range(0.28, 0.5),
    skyTop: rng.pick(P.SKY_TOP),
    skyHorizon: rng.pick(P.SKY_HORIZON),
    groundNear,
    groundFar,
    ...(withRoad
      ? {
          road: {
            vanishX: width * rng.range(0.3, 0.7),
            bottomX: width * rng.range(0.2, 0.8),
            bottomHalfWidth: width * rng.range(0.25, 0.55),
            color: [gray, gray, gray + rng.range(0, 8)],
            marking: rng.chance(0.7) ? [235, 235, 230] : [230, 190, 60],
          },
        }
      : {}),
    textureSeed: Math.floor(rng.next() * 2 ** 32),
  };
}

/** Buildings and trees standing on the horizon: background structure, never labelled. */
export function sampleSkyline(rng: Rng, width: number, height: number, horizon: number): DistractorSpec[] {
  const out: DistractorSpec[] = [];
  const n = rng.int(0, 6);
  for (let k = 0; k < n; k++) {
    const shape: DistractorShape = rng.chance(0.6) ? 'building' : 'tree';
    const size = height * (shape === 'building' ? rng.range(0.06, 0.22) : rng.range(0.05, 0.12));
    // Slightly below the horizon so they sort before everything on the ground.
    out.push(sampleDistractor(rng, shape, rng.range(0, width), horizon + rng.range(0.2, 1.5), size));
  }
  return out;
}

const CLUTTER: readonly DistractorShape[] = ['sign', 'lamp', 'cone', 'bush', 'bin', 'blob', 'blob', 'crate', 'tree'];

function checkRange(name: string, r: readonly [number, number]): void {
  if (!Number.isInteger(r[0]) || !Number.isInteger(r[1]) || r[0] < 0 || r[1] < r[0]) {
    throw new RangeError(`${name} range must be non-negative integers [min, max], got [${r.join(', ')}]`);
  }
}

export function sampleScene(
  seed: number,
  width: number,
  height: number,
  options: SceneSamplerOptions = {},
): SceneDescription {
  const objectRange = options.objects ?? [1, 8];
  const distractorRange = options.distractors ?? [2, 9];
  checkRange('objects', objectRange);
  checkRange('distractors', distractorRange);
  const rng = new Rng(seed);
  // Separate streams: changing how many distractors there are never changes the objects.
  const bgRng = rng.fork(1);
  const objRng = rng.fork(2);
  const clutterRng = rng.fork(3);
  const background = sampleBackground(bgRng, width, height);
  const ground = new GroundPlane(background.horizon, height, height * bgRng.range(0.4, 0.65));
  const objects: ObjectSpec[] = [...sampleSkyline(bgRng, width, height, background.horizon)];
  const minPersonPx = Math.max(10, height * 0.04);

  const nObjects = objRng.int(objectRange[0], objectRange[1]);
  for (let k = 0; k < nObjects; k++) {
    const d = ground.sampleDepth(objRng, minPersonPx);
    const y = ground.yAt(d);
    const personH = d * ground.personAtBottom * objRng.range(0.9, 1.1);
    const roll = objRng.next();
    if (roll < 0.45) {
      objects.push(samplePerson(objRng, objRng.range(-0.08, 1.08) * width, y, personH));
    } else if (roll < 0.65) {
      objects.push(sampleBicycle(objRng, objRng.range(-0.08, 1.08) * width, y, personH * 0.2));
    } else {
      const front = objRng.chance(0.35);
      let x = objRng.range(-0.1, 1.1) * width;
      if (front && background.road) {
        const r = background.road;
        const cx = r.vanishX + (r.bottomX - r.vanishX) * d;
        x = cx + objRng.pick([-0.5, 0.5]) * r.bottomHalfWidth * d;
      }
      objects.push(sampleCar(objRng, x, y, personH, front ? 'front' : 'side'));
    }
  }
  const nClutter = clutterRng.int(distractorRange[0], distractorRange[1]);
  for (let k = 0; k < nClutter; k++) {
    const d = ground.sampleDepth(clutterRng, minPersonPx);
    const y = ground.yAt(d);
    const shape = clutterRng.pick(CLUTTER);
    objects.push(
      sampleDistractor(clutterRng, shape, clutterRng.range(-0.05, 1.05) * width, y, d * ground.personAtBottom),
    );
  }
  return { width, height, background, objects };
}
