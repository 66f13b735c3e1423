/**
 * Bicycle in side view: two tyres with rims and spokes, a diamond frame, fork, seat post and saddle,
 * stem and handlebar, crank and pedals. Optionally carries a rider solved onto its anchor points.
 */

import { scaleColor, type Rgb } from '../raster/color.js';
import { capsule, ellipse, ring } from '../raster/geometry.js';
import { Placement, type Part } from './drawable.js';
import type { BicycleSpec } from './object-spec.js';
import { riderParts } from './person.js';
import { styledColor, styledNumber } from './styled.js';

type P = [number, number];

const RIM: Rgb = [170, 172, 178];
const SADDLE: Rgb = [30, 28, 28];

export interface BicycleGeometry {
  readonly saddle: P;
  readonly pedals: readonly [P, P];
  readonly grip: P;
  readonly parts: Part[];
}

function wheelParts(pl: Placement, cx: number, cy: number, r: number, tyre: number, tyreColor: Rgb): Part[] {
  const parts: Part[] = [];
  const t = Math.max(1.2, tyre * r);
  parts.push({ contours: ring(cx, cy, r, r, t).map((c) => pl.contour(c)), color: tyreColor });
  const rimT = Math.max(1, r * 0.05);
  if (r - t > rimT + 1) {
    parts.push({ contours: ring(cx, cy, r - t, r - t, rimT).map((c) => pl.contour(c)), color: RIM });
  }
  // Spokes only where they can be resolved.
  if (r >= 10) {
    const sw = Math.max(1, r * 0.03);
    for (let k = 0; k < 6; k++) {
      const a = (k / 6) * Math.PI;
      const dx = Math.cos(a) * (r - t);
      const dy = Math.sin(a) * (r - t);
      parts.push({ contours: [pl.contour(capsule(cx - dx, cy - dy, cx + dx, cy + dy, sw))], color: RIM });
    }
  }
  parts.push({ contours: [pl.contour(ellipse(cx, cy, Math.max(1, r * 0.1), Math.max(1, r * 0.1)))], color: RIM });
  return parts;
}

export function bicycleGeometry(spec: BicycleSpec, style: number): BicycleGeometry {
  const r = spec.wheelRadius;
  const w = styledNumber(spec.wheelbase, style) * r;
  const tyre = styledNumber(spec.tyre, style);
  const frameColor = styledColor(spec.frameColor, style);
  const tyreColor = styledColor(spec.tyreColor, style);
  const pl = new Placement(spec.x, spec.y, spec.facing);
  const tube = Math.max(1.3, r * 0.11);
  const rear: P = [-w / 2, r];
  const front: P = [w / 2, r];
  const bb: P = [-0.04 * w, r * 0.85];
  const seat: P = [-0.2 * w, r * 2.3];
  const headTop: P = [0.3 * w, r * 2.3];
  const headBottom: P = [0.34 * w, r * 1.95];
  const saddle: P = [-0.23 * w, r * 2.65];
  const stemTop: P = [0.29 * w, r * 2.7];
  const grip: P = [0.38 * w, r * 2.62];
  const crank = r * 0.36;
  const pedalNear: P = [bb[0] + Math.cos(spec.crankPhase) * crank, bb[1] + Math.sin(spec.crankPhase) * crank];
  const pedalFar: P = [bb[0] - Math.cos(spec.crankPhase) * crank, bb[1] - Math.sin(spec.crankPhase) * crank];
  const line = (a: P, b: P, width: number, color: Rgb): Part => ({
    contours: [pl.contour(capsule(a[0], a[1], b[0], b[1], width))],
    color,
  });
  const parts: Part[] = [];
  parts.push(line(bb, pedalFar, tube * 0.8, scaleColor(RIM, 0.6)));
  parts.push(...wheelParts(pl, rear[0], rear[1], r, tyre, tyreColor));
  parts.push(...wheelParts(pl, front[0], front[1], r, tyre, tyreColor));
  parts.push(line(rear, bb, tube * 0.85, frameColor));
  parts.push(line(rear, seat, tube * 0.8, frameColor));
  parts.push(line(bb, seat, tube, frameColor));
  parts.push(line(seat, headTop, tube, frameColor));
  parts.push(line(bb, headBottom, tube * 1.1, frameColor));
  parts.push(line(headBottom, headTop, tube * 1.2, frameColor));
  parts.push(line(headBottom, front, tube * 0.9, frameColor));
  parts.push(line(seat, saddle, tube * 0.7, RIM));
  parts.push(
    line(
      [saddle[0] - r * 0.28, saddle[1]],
      [saddle[0] + r * 0.22, saddle[1] + r * 0.03],
      Math.max(1.4, r * 0.16),
      SADDLE,
    ),
  );
  parts.push(line(headTop, stemTop, tube * 0.8, RIM));
  parts.push(line(stemTop, grip, tube * 0.8, SADDLE));
  parts.push(line(bb, pedalNear, tube * 0.8, RIM));
  parts.push(
    line(
      [pedalNear[0] - r * 0.12, pedalNear[1]],
      [pedalNear[0] + r * 0.12, pedalNear[1]],
      Math.max(1.2, r * 0.08),
      SADDLE,
    ),
  );
  return { saddle, pedals: [pedalNear, pedalFar], grip, parts };
}

/** Bicycle parts and, when it carries one, the rider's parts (drawn after, in front). */
export function bicycleParts(spec: BicycleSpec, style: number): { bike: Part[]; rider: Part[] | null } {
  const g = bicycleGeometry(spec, style);
  if (!spec.rider) return { bike: g.parts, rider: null };
  const pl = new Placement(spec.x, spec.y, spec.facing);
  return { bike: g.parts, rider: riderParts(pl, spec.rider.height, spec.rider.look, style, g) };
}
