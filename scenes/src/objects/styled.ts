import { lerp, lerpColor, type Rgb } from '../raster/color.js';
import type { Styled } from './object-spec.js';

/** Value of a styled number at style intensity `s` (0 = normal look, 1 = alternative look). */
export function styledNumber(v: Styled<number>, s: number): number {
  return lerp(v[0], v[1], s);
}

export function styledColor(v: Styled<Rgb>, s: number): Rgb {
  return lerpColor(v[0], v[1], s);
}
