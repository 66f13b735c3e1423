/**
 * Unlabelled clutter: street furniture, vegetation, random blobs and distant buildings. They occlude
 * labelled objects like any other object and give a detector things it must not fire on.
 */

import { scaleColor, type Rgb } from '../raster/color.js';
import { capsule, ellipse, polygon, rect } from '../raster/geometry.js';
import { Placement, type Light, type Part } from './drawable.js';
import type { DistractorSpec } from './object-spec.js';

const POLE: Rgb = [110, 112, 118];
const WHITE: Rgb = [235, 235, 235];
const LAMP: Rgb = [255, 236, 180];

function param(spec: DistractorSpec, i: number): number {
  return spec.params[i] ?? 0.5;
}

function color(spec: DistractorSpec, i: number): Rgb {
  return spec.colors[i % Math.max(1, spec.colors.length)] ?? [128, 128, 128];
}

export function distractorParts(spec: DistractorSpec, nightLit: number): { parts: Part[]; lights: Light[] } {
  const s = spec.size;
  const pl = new Placement(spec.x, spec.y, param(spec, 0) < 0.5 ? 1 : -1);
  const parts: Part[] = [];
  const lights: Light[] = [];
  const c = (contour: number[]) => [pl.contour(contour)];
  switch (spec.shape) {
    case 'sign': {
      const pw = Math.max(1.2, s * 0.035);
      const r = s * 0.14;
      parts.push({ contours: c(capsule(0, 0, 0, s - r, pw)), color: POLE });
      const kind = Math.floor(param(spec, 1) * 3);
      if (kind === 0) {
        parts.push({ contours: c(ellipse(0, s - r, r, r)), color: [200, 30, 30] });
        parts.push({ contours: c(ellipse(0, s - r, r * 0.75, r * 0.75)), color: WHITE, flat: true });
      } else if (kind === 1) {
        parts.push({ contours: c(rect(-r, s - 2 * r, r, s)), color: [30, 70, 170] });
        parts.push({ contours: c(rect(-r * 0.3, s - 1.7 * r, r * 0.3, s - 0.3 * r)), color: WHITE, flat: true });
      } else {
        parts.push({
          contours: c(
            polygon([
              [-r * 1.1, s - 1.9 * r],
              [r * 1.1, s - 1.9 * r],
              [0, s],
            ]),
          ),
          color: [220, 40, 30],
        });
        parts.push({
          contours: c(
            polygon([
              [-r * 0.7, s - 1.65 * r],
              [r * 0.7, s - 1.65 * r],
              [0, s - 0.45 * r],
            ]),
          ),
          color: [240, 220, 60],
          flat: true,
        });
      }
      break;
    }
    case 'lamp': {
      const pw = Math.max(1.5, s * 0.03);
      const arm = s * 0.16;
      parts.push({ contours: c(capsule(0, 0, 0, s, pw)), color: POLE });
      parts.push({ contours: c(capsule(0, s, arm, s * 0.98, pw * 0.8)), color: POLE });
      parts.push({ contours: c(ellipse(arm, s * 0.96, s * 0.05, s * 0.022)), color: LAMP, emissive: true, flat: true });
      const [x, y] = pl.point(arm, s * 0.95);
      lights.push({ x, y, radius: s * 0.3, color: LAMP, strength: 1 });
      break;
    }
    case 'cone': {
      const w = s * 0.42;
      parts.push({ contours: c(rect(-w * 0.65, 0, w * 0.65, s * 0.08)), color: [40, 40, 40] });
      parts.push({
        contours: c(
          polygon([
            [-w / 2, s * 0.08],
            [w / 2, s * 0.08],
            [0, s],
          ]),
        ),
        color: color(spec, 0),
      });
      parts.push({
        contours: c(
          polygon([
            [-w * 0.33, s * 0.4],
            [w * 0.33, s * 0.4],
            [w * 0.24, s * 0.56],
            [-w * 0.24, s * 0.56],
          ]),
        ),
        color: WHITE,
        flat: true,
      });
      break;
    }
    case 'bush': {
      const n = 3 + Math.floor(param(spec, 1) * 4);
      for (let k = 0; k < n; k++) {
        const u = (k / Math.max(1, n - 1) - 0.5) * s * 1.1;
        const r = s * (0.3 + 0.25 * param(spec, 2 + k));
        parts.push({
          contours: c(ellipse(u, r * 0.9, r, r * 0.85)),
          color: scaleColor(color(spec, k), 0.85 + 0.3 * param(spec, 8 + k)),
        });
      }
      break;
    }
    case 'bin': {
      const w = s * 0.62;
      parts.push({
        contours: c(
          polygon([
            [-w * 0.45, 0],
            [w * 0.45, 0],
            [w * 0.5, s * 0.9],
            [-w * 0.5, s * 0.9],
          ]),
        ),
        color: color(spec, 0),
      });
      parts.push({ contours: c(rect(-w * 0.56, s * 0.88, w * 0.56, s)), color: scaleColor(color(spec, 0), 0.7) });
      break;
    }
    case 'blob': {
      const n = 5 + Math.floor(param(spec, 1) * 5);
      const pts: [number, number][] = [];
      for (let k = 0; k < n; k++) {
        const a = (k / n) * Math.PI * 2;
        const r = s * (0.3 + 0.25 * param(spec, 2 + k));
        pts.push([Math.cos(a) * r * (0.8 + param(spec, 12)), s * 0.5 + Math.sin(a) * r]);
      }
      parts.push({ contours: c(polygon(pts)), color: color(spec, 0) });
      if (param(spec, 13) < 0.5) {
        parts.push({ contours: c(ellipse(0, s * 0.5, s * 0.12, s * 0.12)), color: color(spec, 1) });
      }
      break;
    }
    case 'crate': {
      const lw = Math.max(1.2, s * 0.07);
      parts.push({ contours: c(rect(-s / 2, 0, s / 2, s)), color: color(spec, 0) });
      const dark = scaleColor(color(spec, 0), 0.6);
      parts.push({ contours: c(capsule(-s * 0.42, s * 0.08, s * 0.42, s * 0.92, lw)), color: dark });
      parts.push({ contours: c(capsule(-s * 0.42, s * 0.92, s * 0.42, s * 0.08, lw)), color: dark });
      break;
    }
    case 'tree': {
      parts.push({ contours: c(capsule(0, 0, 0, s * 0.55, Math.max(1.5, s * 0.08))), color: [90, 62, 40] });
      for (let k = 0; k < 3; k++) {
        const u = (k - 1) * s * 0.16;
        const r = s * (0.2 + 0.1 * param(spec, 2 + k));
        parts.push({
          contours: c(ellipse(u, s * (0.62 + 0.12 * (k % 2)), r * 1.1, r)),
          color: scaleColor(color(spec, k), 0.85 + 0.25 * param(spec, 6 + k)),
        });
      }
      break;
    }
    case 'building': {
      const w = s * (0.6 + param(spec, 1) * 1.4);
      parts.push({ contours: c(rect(-w / 2, 0, w / 2, s)), color: color(spec, 0) });
      const cols = Math.max(1, Math.floor(w / (s * 0.18)));
      const rows = Math.max(1, Math.floor(s / (s * 0.2)));
      const ww = Math.max(1, (w / cols) * 0.45);
      const wh = Math.max(1, (s / rows) * 0.4);
      for (let i = 0; i < cols; i++) {
        for (let j = 0; j < rows; j++) {
          const u = -w / 2 + (i + 0.5) * (w / cols);
          const v = (j + 0.55) * (s / rows);
          const lit = param(spec, 2 + ((i * 7 + j * 3) % 10)) < nightLit;
          parts.push({
            contours: c(rect(u - ww / 2, v - wh / 2, u + ww / 2, v + wh / 2)),
            color: lit ? [250, 220, 140] : color(spec, 1),
            emissive: lit,
            flat: true,
          });
        }
      }
      break;
    }
  }
  return { parts, lights };
}
