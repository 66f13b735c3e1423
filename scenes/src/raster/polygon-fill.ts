/**
 * Scanline polygon filler. A pixel is covered when its centre lies inside the shape (even-odd
 * rule over all contours, so rings have holes). No anti-aliasing: coverage is binary, which makes
 * ground-truth boxes exact (a label is the bounds of the pixels actually written).
 */

import type { Contour } from './geometry.js';

/** A writable 8-bit plane covering `[originX, originX + width) × [originY, originY + height)` in scene pixels. */
export interface Plane {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly originX: number;
  readonly originY: number;
}

/** Writes `value` into every plane pixel whose centre is inside `contours`; returns pixels written. */
export function fillContours(plane: Plane, contours: readonly Contour[], value: number): number {
  // Edge list: [x0, y0, x1, y1] per non-horizontal edge, in plane-local coordinates.
  const edges: number[] = [];
  let minY = Infinity;
  let maxY = -Infinity;
  for (const c of contours) {
    const n = c.length / 2;
    for (let i = 0; i < n; i++) {
      const j = (i + 1) % n;
      const x0 = (c[2 * i] as number) - plane.originX;
      const y0 = (c[2 * i + 1] as number) - plane.originY;
      const x1 = (c[2 * j] as number) - plane.originX;
      const y1 = (c[2 * j + 1] as number) - plane.originY;
      if (y0 === y1) continue;
      edges.push(x0, y0, x1, y1);
      if (y0 < minY) minY = y0;
      if (y1 < minY) minY = y1;
      if (y0 > maxY) maxY = y0;
      if (y1 > maxY) maxY = y1;
    }
  }
  if (edges.length === 0) return 0;
  const rowStart = Math.max(0, Math.ceil(minY - 0.5));
  const rowEnd = Math.min(plane.height - 1, Math.floor(maxY - 0.5));
  const xs: number[] = [];
  let written = 0;
  for (let row = rowStart; row <= rowEnd; row++) {
    const yc = row + 0.5;
    xs.length = 0;
    for (let e = 0; e < edges.length; e += 4) {
      const y0 = edges[e + 1] as number;
      const y1 = edges[e + 3] as number;
      // Half-open so a vertex shared by two edges is counted once.
      if ((y0 <= yc && yc < y1) || (y1 <= yc && yc < y0)) {
        const x0 = edges[e] as number;
        const x1 = edges[e + 2] as number;
        xs.push(x0 + ((yc - y0) * (x1 - x0)) / (y1 - y0));
      }
    }
    if (xs.length < 2) continue;
    xs.sort((a, b) => a - b);
    const base = row * plane.width;
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const from = Math.max(0, Math.ceil((xs[k] as number) - 0.5));
      const to = Math.min(plane.width - 1, Math.ceil((xs[k + 1] as number) - 0.5) - 1);
      for (let x = from; x <= to; x++) {
        plane.data[base + x] = value;
        written++;
      }
    }
  }
  return written;
}
