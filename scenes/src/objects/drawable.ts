/**
 * What the rasteriser draws: an object is an ordered list of filled parts (painter's order within
 * the object) plus optional light sources that glare at night.
 */

import type { Rgb } from '../raster/color.js';
import type { Contour } from '../raster/geometry.js';

export interface Part {
  readonly contours: Contour[];
  readonly color: Rgb;
  /** Lamps and headlights keep their brightness at night. */
  readonly emissive?: boolean;
  /** Skip the top-lit shading (glass, markings). */
  readonly flat?: boolean;
}

export interface Light {
  readonly x: number;
  readonly y: number;
  /** Glare radius in pixels at night, before fog widens it. */
  readonly radius: number;
  readonly color: Rgb;
  /** 0..1 */
  readonly strength: number;
}

/** `classId` is set for labelled classes; `null` for distractors and scenery (drawn, never labelled). */
export interface Drawable {
  readonly kind: string;
  readonly classId: number | null;
  /** Ground contact y in scene coordinates: larger is nearer, drawn later. */
  readonly baseY: number;
  /** Relative distance (1 = frame bottom, grows toward the horizon) used by fog. */
  readonly distance: number;
  readonly parts: Part[];
  readonly lights: Light[];
  /** Index of the spec this drawable came from (a bicycle and its rider share one). */
  readonly specIndex: number;
}

/** Maps object-local "up" coordinates (u forward, v up from the ground point) to scene pixels. */
export class Placement {
  constructor(
    readonly x: number,
    readonly y: number,
    readonly facing: 1 | -1,
  ) {}

  contour(c: readonly number[]): number[] {
    const out = new Array<number>(c.length);
    for (let i = 0; i < c.length; i += 2) {
      out[i] = this.x + this.facing * (c[i] as number);
      out[i + 1] = this.y - (c[i + 1] as number);
    }
    return out;
  }

  point(u: number, v: number): [number, number] {
    return [this.x + this.facing * u, this.y - v];
  }
}
