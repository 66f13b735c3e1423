/**
 * Car seen from the side (body, cabin, split windows, wheels with hubs, lights, door seam) or from
 * the front (body, cabin, windshield, grille, headlights, plate, mirrors, tyres).
 */

import { scaleColor, type Rgb } from '../raster/color.js';
import { capsule, ellipse, polygon, rect } from '../raster/geometry.js';
import { Placement, type Light, type Part } from './drawable.js';
import type { CarSpec } from './object-spec.js';
import { styledColor, styledNumber } from './styled.js';

type P = [number, number];

const TYRE: Rgb = [22, 22, 24];
const HUB: Rgb = [150, 152, 158];
const HEADLIGHT: Rgb = [250, 245, 215];
const TAILLIGHT: Rgb = [200, 20, 20];
const GRILLE: Rgb = [35, 36, 40];
const PLATE: Rgb = [235, 235, 225];
const HEADLIGHT_GLOW: Rgb = [255, 240, 200];

/** Shrinks a convex polygon toward its centroid by `margin` pixels (approximately). */
function inset(points: readonly P[], margin: number): P[] {
  const cx = points.reduce((s, p) => s + p[0], 0) / points.length;
  const cy = points.reduce((s, p) => s + p[1], 0) / points.length;
  return points.map(([x, y]) => {
    const dx = x - cx;
    const dy = y - cy;
    const len = Math.hypot(dx, dy) || 1;
    const k = Math.max(0, (len - margin) / len);
    return [cx + dx * k, cy + dy * k];
  });
}

function sideView(spec: CarSpec, style: number): { parts: Part[]; lights: Light[] } {
  const pl = new Placement(spec.x, spec.y, spec.facing);
  const L = spec.size;
  const H = styledNumber(spec.heightRatio, style) * L;
  const rw = styledNumber(spec.wheel, style) * L;
  const hood = styledNumber(spec.hood, style) * L;
  const body = styledColor(spec.body, style);
  const glass = styledColor(spec.glass, style);
  const dark = scaleColor(body, 0.55);
  const b = rw * 0.45;
  const belt = H * 0.55;
  const cabinFront = L / 2 - hood;
  // The boxy (van) style keeps the roof going almost to the rear.
  const cabinRearTop = -L * (0.27 + 0.15 * style);
  const cabinRear = -L * (0.4 + 0.04 * style);
  const wheelU = [-0.31 * L, 0.31 * L];
  const parts: Part[] = [];
  const bodyPoly: P[] = [
    [-0.48 * L, b],
    [0.47 * L, b],
    [0.5 * L, b + 0.12 * H],
    [0.5 * L, 0.44 * H],
    [0.46 * L, 0.5 * H],
    [cabinFront, belt],
    [-0.45 * L, belt + 0.02 * H],
    [-0.5 * L, 0.5 * H],
    [-0.5 * L, b + 0.1 * H],
  ];
  const cabin: P[] = [
    [cabinRear, belt - 0.02 * H],
    [cabinFront + 0.02 * L, belt - 0.02 * H],
    [cabinFront - 0.17 * L, H],
    [cabinRearTop, H],
  ];
  parts.push({ contours: [pl.contour(polygon(cabin))], color: body });
  parts.push({ contours: [pl.contour(polygon(bodyPoly))], color: body });
  // A light crease along the beltline and a dark sill make the body read as a car body, not a box.
  parts.push({
    contours: [
      pl.contour(
        polygon([
          [-0.49 * L, 0.42 * H],
          [0.49 * L, 0.4 * H],
          [0.49 * L, 0.44 * H],
          [-0.49 * L, 0.46 * H],
        ]),
      ),
    ],
    color: scaleColor(body, 1.18),
    flat: true,
  });
  parts.push({ contours: [pl.contour(rect(-0.44 * L, b, 0.44 * L, b + 0.07 * H))], color: dark });
  // Side windows split by a B-pillar.
  const win = inset(cabin, Math.max(1, H * 0.06));
  const [w0, w1, w2, w3] = win as [P, P, P, P];
  const pillar = Math.max(0.8, L * 0.012);
  const midBottom = (w0[0] + w1[0]) / 2 + 0.03 * L;
  const midTop = (w3[0] + w2[0]) / 2 + 0.03 * L;
  parts.push({
    contours: [pl.contour(polygon([w0, [midBottom - pillar, w0[1]], [midTop - pillar, w3[1]], w3]))],
    color: glass,
    flat: true,
  });
  parts.push({
    contours: [pl.contour(polygon([[midBottom + pillar, w1[1]], w1, w2, [midTop + pillar, w2[1]]]))],
    color: scaleColor(glass, 1.1),
    flat: true,
  });
  // Door seams and handles.
  const seamW = Math.max(1, L * 0.006);
  for (const u of [midBottom, cabinFront - 0.02 * L]) {
    parts.push({ contours: [pl.contour(capsule(u, b + 0.1 * H, u, belt - 0.03 * H, seamW))], color: dark });
  }
  for (const u of [midBottom - 0.08 * L, cabinFront - 0.1 * L]) {
    parts.push({ contours: [pl.contour(rect(u, 0.47 * H, u + 0.04 * L, 0.5 * H))], color: dark, flat: true });
  }
  // Side mirror at the foot of the windshield.
  parts.push({
    contours: [
      pl.contour(
        polygon([
          [cabinFront - 0.03 * L, belt],
          [cabinFront + 0.02 * L, belt],
          [cabinFront + 0.01 * L, belt + 0.09 * H],
          [cabinFront - 0.03 * L, belt + 0.08 * H],
        ]),
      ),
    ],
    color: body,
  });
  // Bumpers.
  parts.push({ contours: [pl.contour(rect(0.44 * L, b, 0.505 * L, b + 0.14 * H))], color: [45, 45, 48] });
  parts.push({ contours: [pl.contour(rect(-0.505 * L, b, -0.45 * L, b + 0.14 * H))], color: [45, 45, 48] });
  for (const u of wheelU) {
    // Dark wheel arch behind the tyre.
    parts.push({ contours: [pl.contour(ellipse(u, rw * 1.05, rw * 1.18, rw * 1.18))], color: [20, 20, 22] });
    parts.push({ contours: [pl.contour(ellipse(u, rw, rw, rw))], color: TYRE });
    parts.push({ contours: [pl.contour(ellipse(u, rw, rw * 0.6, rw * 0.6))], color: HUB });
    parts.push({
      contours: [pl.contour(ellipse(u, rw, rw * 0.22, rw * 0.22))],
      color: scaleColor(HUB, 0.7),
      flat: true,
    });
  }
  parts.push({
    contours: [
      pl.contour(
        polygon([
          [0.47 * L, 0.34 * H],
          [0.5 * L, 0.36 * H],
          [0.5 * L, 0.44 * H],
          [0.44 * L, 0.46 * H],
        ]),
      ),
    ],
    color: HEADLIGHT,
    emissive: spec.headlightsOn,
    flat: true,
  });
  parts.push({
    contours: [pl.contour(rect(-0.5 * L, 0.36 * H, -0.475 * L, 0.47 * H))],
    color: TAILLIGHT,
    emissive: spec.headlightsOn,
    flat: true,
  });
  const lights: Light[] = [];
  if (spec.headlightsOn) {
    const [x, y] = pl.point(0.49 * L, 0.41 * H);
    lights.push({ x, y, radius: H * 0.5, color: HEADLIGHT_GLOW, strength: 0.8 });
  }
  return { parts, lights };
}

function frontView(spec: CarSpec, style: number): { parts: Part[]; lights: Light[] } {
  const pl = new Placement(spec.x, spec.y, spec.facing);
  const W = spec.size;
  const H = styledNumber(spec.heightRatio, style) * W * 2.2;
  const body = styledColor(spec.body, style);
  const glass = styledColor(spec.glass, style);
  const parts: Part[] = [];
  for (const side of [-1, 1]) {
    parts.push({
      contours: [pl.contour(rect(side * 0.44 * W - 0.08 * W, 0, side * 0.44 * W + 0.08 * W, 0.25 * H))],
      color: TYRE,
    });
  }
  const cabin: P[] = [
    [-0.42 * W, 0.58 * H],
    [0.42 * W, 0.58 * H],
    [0.33 * W, H],
    [-0.33 * W, H],
  ];
  parts.push({ contours: [pl.contour(polygon(cabin))], color: body });
  parts.push({ contours: [pl.contour(polygon(inset(cabin, Math.max(1, H * 0.05))))], color: glass, flat: true });
  parts.push({
    contours: [
      pl.contour(
        polygon([
          [-0.5 * W, 0.1 * H],
          [0.5 * W, 0.1 * H],
          [0.5 * W, 0.52 * H],
          [0.44 * W, 0.6 * H],
          [-0.44 * W, 0.6 * H],
          [-0.5 * W, 0.52 * H],
        ]),
      ),
    ],
    color: body,
  });
  for (const side of [-1, 1]) {
    parts.push({ contours: [pl.contour(rect(side * 0.5 * W, 0.56 * H, side * 0.57 * W, 0.64 * H))], color: body });
  }
  parts.push({ contours: [pl.contour(rect(-0.22 * W, 0.3 * H, 0.22 * W, 0.44 * H))], color: GRILLE, flat: true });
  parts.push({ contours: [pl.contour(rect(-0.1 * W, 0.15 * H, 0.1 * W, 0.24 * H))], color: PLATE, flat: true });
  const lights: Light[] = [];
  for (const side of [-1, 1]) {
    parts.push({
      contours: [pl.contour(ellipse(side * 0.36 * W, 0.4 * H, 0.08 * W, 0.05 * H))],
      color: HEADLIGHT,
      emissive: spec.headlightsOn,
      flat: true,
    });
    if (spec.headlightsOn) {
      const [x, y] = pl.point(side * 0.36 * W, 0.4 * H);
      lights.push({ x, y, radius: W * 0.35, color: HEADLIGHT_GLOW, strength: 1 });
    }
  }
  return { parts, lights };
}

export function carParts(spec: CarSpec, style: number): { parts: Part[]; lights: Light[] } {
  return spec.view === 'side' ? sideView(spec, style) : frontView(spec, style);
}
