/**
 * Camera change as a plane homography applied to scene geometry (zoom, roll, keystone tilt about
 * the frame centre). Geometry is moved before rasterisation, so labels stay exact; the background
 * is sampled through the inverse.
 */

export class Homography {
  /** Row-major 3×3. */
  constructor(readonly m: readonly number[]) {}

  static identity(): Homography {
    return new Homography([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  }

  get isIdentity(): boolean {
    const m = this.m;
    return (
      m[0] === 1 &&
      m[1] === 0 &&
      m[2] === 0 &&
      m[3] === 0 &&
      m[4] === 1 &&
      m[5] === 0 &&
      m[6] === 0 &&
      m[7] === 0 &&
      m[8] === 1
    );
  }

  /** this ∘ other (apply `other` first). */
  compose(other: Homography): Homography {
    const a = this.m;
    const b = other.m;
    const out: number[] = [];
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        out.push(
          (a[r * 3] as number) * (b[c] as number) +
            (a[r * 3 + 1] as number) * (b[3 + c] as number) +
            (a[r * 3 + 2] as number) * (b[6 + c] as number),
        );
      }
    }
    return new Homography(out);
  }

  apply(x: number, y: number): [number, number] {
    const m = this.m as number[];
    const w = (m[6] as number) * x + (m[7] as number) * y + (m[8] as number);
    return [
      ((m[0] as number) * x + (m[1] as number) * y + (m[2] as number)) / w,
      ((m[3] as number) * x + (m[4] as number) * y + (m[5] as number)) / w,
    ];
  }

  applyContour(c: readonly number[]): number[] {
    if (this.isIdentity) return c.slice();
    const out = new Array<number>(c.length);
    for (let i = 0; i < c.length; i += 2) {
      const [x, y] = this.apply(c[i] as number, c[i + 1] as number);
      out[i] = x;
      out[i + 1] = y;
    }
    return out;
  }

  /** Local scale (square root of the Jacobian determinant) at a point: how much sizes grow there. */
  scaleAt(x: number, y: number): number {
    const [x0, y0] = this.apply(x, y);
    const [x1, y1] = this.apply(x + 1, y);
    const [x2, y2] = this.apply(x, y + 1);
    return Math.sqrt(Math.abs((x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)));
  }

  inverse(): Homography {
    const [a, b, c, d, e, f, g, h, i] = this.m as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const A = e * i - f * h;
    const B = -(d * i - f * g);
    const C = d * h - e * g;
    const det = a * A + b * B + c * C;
    if (Math.abs(det) < 1e-12) throw new RangeError('homography is singular');
    const inv = [
      A,
      -(b * i - c * h),
      b * f - c * e,
      B,
      a * i - c * g,
      -(a * f - c * d),
      C,
      -(a * h - b * g),
      a * e - b * d,
    ];
    return new Homography(inv.map((v) => v / det));
  }
}

/** Camera homography for a `width`×`height` frame: keystone tilt, then zoom and roll, about the centre. */
export function cameraHomography(
  width: number,
  height: number,
  cam: { zoom: number; rollDeg: number; tilt: number },
): Homography {
  if (cam.zoom === 1 && cam.rollDeg === 0 && cam.tilt === 0) return Homography.identity();
  if (!(cam.zoom > 0)) throw new RangeError(`camera zoom must be positive, got ${cam.zoom}`);
  const cx = width / 2;
  const cy = height / 2;
  const toCentre = new Homography([1, 0, -cx, 0, 1, -cy, 0, 0, 1]);
  // Keystone: rows below the centre shrink, rows above grow (camera pitched toward the ground).
  const p = cam.tilt / height;
  const keystone = new Homography([1, 0, 0, 0, 1, 0, 0, p, 1]);
  const a = (cam.rollDeg * Math.PI) / 180;
  const z = cam.zoom;
  const zoomRoll = new Homography([z * Math.cos(a), -z * Math.sin(a), 0, z * Math.sin(a), z * Math.cos(a), 0, 0, 0, 1]);
  const back = new Homography([1, 0, cx, 0, 1, cy, 0, 0, 1]);
  return back.compose(zoomRoll).compose(keystone).compose(toCentre);
}
