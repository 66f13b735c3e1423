/** Small image statistics shared by the scenes tests. */

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export function lumaStats(rgb: Uint8Array): { mean: number; std: number } {
  const n = rgb.length / 3;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const l = 0.299 * (rgb[i * 3] as number) + 0.587 * (rgb[i * 3 + 1] as number) + 0.114 * (rgb[i * 3 + 2] as number);
    sum += l;
    sq += l * l;
  }
  const mean = sum / n;
  return { mean, std: Math.sqrt(Math.max(0, sq / n - mean * mean)) };
}

/** Mean of max(r,g,b) - min(r,g,b): how colourful the image is. */
export function meanChroma(rgb: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < rgb.length; i += 3) {
    const r = rgb[i] as number;
    const g = rgb[i + 1] as number;
    const b = rgb[i + 2] as number;
    sum += Math.max(r, g, b) - Math.min(r, g, b);
  }
  return sum / (rgb.length / 3);
}

/** Bounds [x1, y1, x2, y2] (pixel edges) of pixels that differ from `bg`, or null. */
export function boundsNotColor(
  rgb: Uint8Array,
  width: number,
  height: number,
  bg: readonly [number, number, number],
): [number, number, number, number] | null {
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -1;
  let y2 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (rgb[o] === bg[0] && rgb[o + 1] === bg[1] && rgb[o + 2] === bg[2]) continue;
      if (x < x1) x1 = x;
      if (y < y1) y1 = y;
      if (x > x2) x2 = x;
      if (y > y2) y2 = y;
    }
  }
  return x2 < 0 ? null : [x1, y1, x2 + 1, y2 + 1];
}

/** sha256 of every file under `dir`, keyed by relative path. */
export function hashTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}
