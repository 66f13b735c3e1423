/**
 * Moving and standing objects for a live camera, as tracks generated per 20-second epoch from the
 * stream seed. Any instant can be rendered directly (no simulation state), so frame N is the same
 * whether frames were pulled in order or not.
 */

import type { ObjectSpec, ProceduralBackground } from '../objects/object-spec.js';
import { hashSeed, Rng } from '../prng.js';
import { sampleBicycle, sampleCar, samplePerson } from '../sampling/sample-objects.js';
import type { GroundPlane } from '../sampling/sample-scene.js';

const EPOCH_S = 20;
/** Longest a track may live; bounds how far back the epochs are searched. */
const MAX_LIFETIME_S = 120;

interface Track {
  readonly start: number;
  readonly lifetime: number;
  /** Pixels per second along x, signed; 0 for standing/parked objects. */
  readonly velocity: number;
  readonly x0: number;
  readonly spec: ObjectSpec;
}

export class Traffic {
  private readonly cache = new Map<number, Track[]>();

  constructor(
    private readonly seed: number,
    private readonly width: number,
    private readonly ground: GroundPlane,
    private readonly background: ProceduralBackground,
    /** Mean tracks spawned per epoch. */
    private readonly density: number,
  ) {}

  private epoch(e: number): Track[] {
    const cached = this.cache.get(e);
    if (cached) return cached;
    const rng = new Rng(hashSeed(this.seed, 0x7472, e >>> 0, e < 0 ? 1 : 0));
    const tracks: Track[] = [];
    const n = Math.max(0, Math.round(this.density * rng.range(0.6, 1.4)));
    const minPersonPx = Math.max(12, this.ground.height * 0.05);
    for (let k = 0; k < n; k++) {
      const start = e * EPOCH_S + rng.range(0, EPOCH_S);
      const d = this.ground.sampleDepth(rng, minPersonPx);
      const y = this.ground.yAt(d);
      const personH = d * this.ground.personAtBottom * rng.range(0.9, 1.1);
      const dir = rng.chance(0.5) ? 1 : -1;
      const standing = rng.chance(0.25);
      const roll = rng.next();
      let spec: ObjectSpec;
      let speed: number;
      let extent: number;
      if (roll < 0.5) {
        spec = samplePerson(rng, 0, y, personH);
        if (standing) spec = { ...spec, stride: rng.range(0, 0.15) };
        else spec = { ...spec, view: 'side', stride: rng.range(0.5, 1) };
        speed = personH * rng.range(0.6, 1.0);
        extent = personH * 0.5;
      } else if (roll < 0.7) {
        spec = sampleBicycle(rng, 0, y, personH * 0.2);
        speed = personH * rng.range(1.8, 2.8);
        extent = personH * 0.8;
      } else {
        spec = sampleCar(rng, 0, y, personH, standing ? rng.pick(['side', 'front'] as const) : 'side');
        speed = personH * rng.range(1.5, 3);
        extent = personH * 1.5;
      }
      const moving = !standing || spec.kind === 'bicycle';
      if (moving) {
        speed = Math.max(speed, (this.width + 2 * extent) / MAX_LIFETIME_S);
        const x0 = dir > 0 ? -extent : this.width + extent;
        tracks.push({
          start,
          lifetime: (this.width + 2 * extent) / speed,
          velocity: dir * speed,
          x0,
          spec: { ...spec, facing: dir },
        });
      } else {
        let x0 = rng.range(0.05, 0.95) * this.width;
        if (spec.kind === 'car' && spec.view === 'front' && this.background.road) {
          const r = this.background.road;
          x0 = r.vanishX + (r.bottomX - r.vanishX) * d + rng.pick([-0.5, 0.5]) * r.bottomHalfWidth * d;
        }
        tracks.push({ start, lifetime: rng.range(20, 90), velocity: 0, x0, spec });
      }
    }
    if (this.cache.size > 16) this.cache.delete(this.cache.keys().next().value as number);
    this.cache.set(e, tracks);
    return tracks;
  }

  /** Object specs in view at `tS` seconds. */
  at(tS: number): ObjectSpec[] {
    const out: ObjectSpec[] = [];
    const last = Math.floor(tS / EPOCH_S);
    const first = Math.floor((tS - MAX_LIFETIME_S) / EPOCH_S);
    for (let e = first; e <= last; e++) {
      for (const track of this.epoch(e)) {
        const age = tS - track.start;
        if (age < 0 || age > track.lifetime) continue;
        const x = track.x0 + track.velocity * age;
        const travelled = Math.abs(track.velocity) * age;
        const spec = track.spec;
        switch (spec.kind) {
          case 'person':
            out.push({
              ...spec,
              x,
              walkPhase: spec.walkPhase + (travelled / Math.max(1, spec.height * 0.8)) * Math.PI * 2,
            });
            break;
          case 'bicycle':
            out.push({ ...spec, x, crankPhase: spec.crankPhase + travelled / Math.max(1, spec.wheelRadius * 2.6) });
            break;
          default:
            out.push({ ...spec, x });
        }
      }
    }
    return out;
  }
}
