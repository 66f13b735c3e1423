/**
 * Shape primitives as polygon contours (flat `[x0, y0, x1, y1, ...]` arrays). Everything is a
 * polygon so a camera homography can move vertices and boxes stay exact after any transform.
 */

export type Contour = number[];

/** Filled polygon from `[x, y]` pairs. */
export function polygon(points: ReadonlyArray<readonly [number, number]>): Contour {
  const out: Contour = [];
  for (const [x, y] of points) out.push(x, y);
  return out;
}

export function rect(x1: number, y1: number, x2: number, y2: number): Contour {
  return [x1, y1, x2, y1, x2, y2, x1, y2];
}

/** Ellipse centred at (cx, cy), optionally rotated by `rot` radians; segment count scales with size. */
export function ellipse(cx: number, cy: number, rx: number, ry: number, rot = 0, segments?: number): Contour {
  const n = segments ?? Math.max(8, Math.min(48, Math.ceil(Math.max(rx, ry) * 1.5)));
  const cos = Math.cos(rot);
  const sin = Math.sin(rot);
  const out: Contour = [];
  for (let i = 0; i < n; i++) {
    const a = (i / n) * Math.PI * 2;
    const ex = Math.cos(a) * rx;
    const ey = Math.sin(a) * ry;
    out.push(cx + ex * cos - ey * sin, cy + ex * sin + ey * cos);
  }
  return out;
}

/** Thick line with rounded caps (a stadium), the building block for limbs and bicycle tubes. */
export function capsule(x1: number, y1: number, x2: number, y2: number, width: number): Contour {
  const r = width / 2;
  const dx = x2 - x1;
  const dy = y2 - y1;
  const len = Math.hypot(dx, dy);
  const base = len > 1e-9 ? Math.atan2(dy, dx) : 0;
  const capSegments = Math.max(3, Math.min(10, Math.ceil(r)));
  const out: Contour = [];
  // Half circle around the end point, then around the start point.
  for (let i = 0; i <= capSegments; i++) {
    const a = base - Math.PI / 2 + (i / capSegments) * Math.PI;
    out.push(x2 + Math.cos(a) * r, y2 + Math.sin(a) * r);
  }
  for (let i = 0; i <= capSegments; i++) {
    const a = base + Math.PI / 2 + (i / capSegments) * Math.PI;
    out.push(x1 + Math.cos(a) * r, y1 + Math.sin(a) * r);
  }
  return out;
}

/** An elliptical ring (tyre, rim): two contours filled with the even-odd rule. */
export function ring(cx: number, cy: number, rx: number, ry: number, thickness: number): Contour[] {
  const inner = Math.max(0, Math.min(rx, ry) - thickness);
  const outer = ellipse(cx, cy, rx, ry);
  if (inner <= 0) return [outer];
  return [outer, ellipse(cx, cy, rx - thickness, ry - thickness)];
}

/** Bounds `[minX, minY, maxX, maxY]` of a set of contours. */
export function contoursBounds(contours: readonly Contour[]): [number, number, number, number] {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const c of contours) {
    for (let i = 0; i < c.length; i += 2) {
      const x = c[i] as number;
      const y = c[i + 1] as number;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  }
  return [minX, minY, maxX, maxY];
}
