/**
 * Random object specs. Each sampler makes all its draws up front (both looks), so a spec renders
 * identically whatever the domain, apart from the domain's own effect.
 */

import type { Rgb } from '../raster/color.js';
import type {
  BicycleSpec,
  CarSpec,
  DistractorShape,
  DistractorSpec,
  PersonLook,
  PersonSpec,
} from '../objects/object-spec.js';
import type { Rng } from '../prng.js';
import * as P from './palettes.js';

function jitter(rng: Rng, c: Rgb, amount: number): Rgb {
  return [c[0] + rng.range(-amount, amount), c[1] + rng.range(-amount, amount), c[2] + rng.range(-amount, amount)];
}

export function samplePersonLook(rng: Rng): PersonLook {
  return {
    skin: [jitter(rng, rng.pick(P.SKIN), 8), rng.pick(P.SKIN_ALT)],
    hair: [rng.pick(P.HAIR), rng.pick(P.HAIR_ALT)],
    shirt: [jitter(rng, rng.pick(P.CLOTHES), 15), rng.pick(P.NEON)],
    pants: [jitter(rng, rng.pick(P.PANTS), 10), rng.pick(P.NEON)],
    shoes: [rng.pick(P.SHOES), rng.pick(P.NEON)],
    legRatio: [rng.range(0.45, 0.49), rng.range(0.37, 0.41)],
    torsoRatio: [rng.range(0.3, 0.33), rng.range(0.33, 0.36)],
    headRatio: [rng.range(0.068, 0.078), rng.range(0.095, 0.11)],
    shoulderRatio: [rng.range(0.22, 0.28), rng.range(0.34, 0.4)],
    limbRatio: [rng.range(0.06, 0.075), rng.range(0.1, 0.12)],
  };
}

export function samplePerson(rng: Rng, x: number, y: number, height: number): PersonSpec {
  const view = rng.chance(0.55) ? 'side' : 'front';
  const raise = rng.chance(0.15);
  return {
    kind: 'person',
    x,
    y,
    height,
    view,
    facing: rng.chance(0.5) ? 1 : -1,
    walkPhase: rng.range(0, Math.PI * 2),
    stride: rng.chance(0.25) ? rng.range(0, 0.2) : rng.range(0.4, 1),
    armLeft: raise ? rng.range(1.5, 2.6) : rng.range(0.05, 0.35),
    armRight: rng.range(0.05, 0.4),
    look: samplePersonLook(rng),
  };
}

export function sampleBicycle(rng: Rng, x: number, y: number, wheelRadius: number): BicycleSpec {
  const withRider = rng.chance(0.55);
  const frame = rng.pick(P.BIKE);
  return {
    kind: 'bicycle',
    x,
    y,
    wheelRadius,
    facing: rng.chance(0.5) ? 1 : -1,
    crankPhase: rng.range(0, Math.PI * 2),
    frameColor: [jitter(rng, frame, 10), rng.pick(P.NEON)],
    tyreColor: [rng.pick(P.TYRE), rng.pick(P.TYRE_ALT)],
    wheelbase: [rng.range(2.9, 3.1), rng.range(3.4, 3.7)],
    tyre: [rng.range(0.1, 0.14), rng.range(0.22, 0.28)],
    ...(withRider ? { rider: { height: wheelRadius * rng.range(5, 5.6), look: samplePersonLook(rng) } } : {}),
  };
}

export function sampleCar(rng: Rng, x: number, y: number, personHeight: number, view: 'side' | 'front'): CarSpec {
  const size =
    view === 'side' ? 2.55 * personHeight * rng.range(0.9, 1.1) : 1.05 * personHeight * rng.range(0.95, 1.05);
  return {
    kind: 'car',
    x,
    y,
    size,
    view,
    facing: rng.chance(0.5) ? 1 : -1,
    body: [jitter(rng, rng.pick(P.CAR), 12), rng.pick(P.CAR_ALT)],
    glass: [rng.pick(P.GLASS), rng.pick(P.GLASS_ALT)],
    heightRatio: [rng.range(0.3, 0.36), rng.range(0.46, 0.54)],
    hood: [rng.range(0.24, 0.3), rng.range(0.08, 0.14)],
    wheel: [rng.range(0.075, 0.088), rng.range(0.11, 0.13)],
    headlightsOn: rng.chance(0.7),
  };
}

/** Size of a distractor relative to a person standing at the same spot. */
const DISTRACTOR_SCALE: Readonly<Record<DistractorShape, readonly [number, number]>> = {
  sign: [1.1, 1.5],
  lamp: [2.1, 2.7],
  cone: [0.28, 0.42],
  bush: [0.35, 0.7],
  bin: [0.45, 0.6],
  blob: [0.2, 0.7],
  crate: [0.3, 0.5],
  tree: [1.5, 2.3],
  building: [1, 1],
};

export function sampleDistractor(
  rng: Rng,
  shape: DistractorShape,
  x: number,
  y: number,
  personHeight: number,
): DistractorSpec {
  const [lo, hi] = DISTRACTOR_SCALE[shape];
  const size = personHeight * rng.range(lo, hi);
  let colors: Rgb[];
  switch (shape) {
    case 'cone':
      colors = [
        rng.pick([
          [240, 110, 20],
          [230, 60, 30],
        ] as Rgb[]),
      ];
      break;
    case 'bush':
    case 'tree':
      colors = [rng.pick(P.FOLIAGE), rng.pick(P.FOLIAGE), rng.pick(P.FOLIAGE)];
      break;
    case 'bin':
      colors = [
        rng.pick([
          [40, 90, 50],
          [60, 60, 65],
          [30, 60, 120],
          [150, 40, 30],
        ] as Rgb[]),
      ];
      break;
    case 'crate':
      colors = [
        rng.pick([
          [160, 120, 70],
          [130, 95, 55],
          [190, 150, 90],
        ] as Rgb[]),
      ];
      break;
    case 'building':
      colors = [rng.pick(P.BUILDING), rng.pick(P.WINDOW)];
      break;
    default:
      // Blobs and signs borrow object colours so colour alone never identifies a class.
      colors = [rng.pick([...P.CLOTHES, ...P.CAR]), rng.pick(P.CLOTHES)];
  }
  const params: number[] = [];
  for (let i = 0; i < 16; i++) params.push(rng.next());
  return { kind: 'distractor', shape, x, y, size, colors, params };
}
