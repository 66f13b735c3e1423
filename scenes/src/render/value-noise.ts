/** Smooth 2-D value noise on a seeded 64×64 lattice (tiling), values in about -1..1. */

import { Rng } from '../prng.js';

const SIZE = 64;
const MASK = SIZE - 1;

export class ValueNoise {
  private readonly lattice: Float32Array;

  constructor(seed: number) {
    const rng = new Rng(seed);
    this.lattice = new Float32Array(SIZE * SIZE);
    for (let i = 0; i < this.lattice.length; i++) this.lattice[i] = rng.next() * 2 - 1;
  }

  sample(x: number, y: number): number {
    const fx = Math.floor(x);
    const fy = Math.floor(y);
    let tx = x - fx;
    let ty = y - fy;
    // Smoothstep so lattice cells do not show.
    tx = tx * tx * (3 - 2 * tx);
    ty = ty * ty * (3 - 2 * ty);
    const x0 = fx & MASK;
    const y0 = fy & MASK;
    const x1 = (x0 + 1) & MASK;
    const y1 = (y0 + 1) & MASK;
    const l = this.lattice;
    const a = l[y0 * SIZE + x0] as number;
    const b = l[y0 * SIZE + x1] as number;
    const c = l[y1 * SIZE + x0] as number;
    const d = l[y1 * SIZE + x1] as number;
    const top = a + (b - a) * tx;
    const bottom = c + (d - c) * tx;
    return top + (bottom - top) * ty;
  }
}
