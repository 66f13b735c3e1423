/**
 * Renders a scene description under domain parameters into packed RGB plus exact ground truth.
 */

import { buildDrawables } from '../objects/build-drawables.js';
import type { Drawable, Light } from '../objects/drawable.js';
import { CLASS_NAMES, type ClassName, type SceneDescription } from '../objects/object-spec.js';
import { contoursBounds, type Contour } from '../raster/geometry.js';
import { fillContours } from '../raster/polygon-fill.js';
import { DAY, type DomainParams } from '../domain/domain-spec.js';
import { ScenesError } from '../errors.js';
import { hashSeed } from '../prng.js';
import { renderBackground } from './background.js';
import { applyFog, applyGlare, applyNight, applyRain, applySensorNoise, quantise } from './effects.js';
import { createFrameBuffers, quantiseDistance, type FrameBuffers } from './frame-buffers.js';
import { cameraHomography, type Homography } from './homography.js';
import { DEFAULT_LABEL_RULE, isLabelled, type LabelRule } from './label-rule.js';

/** Box `[x1, y1, x2, y2]` in pixel edges of the rendered frame. */
export type PixelBox = [number, number, number, number];

export interface GroundTruthBox {
  readonly classId: number;
  readonly className: ClassName;
  readonly box: PixelBox;
  readonly visibleFraction: number;
}

/** Every object of a labelled class, labelled or not, with the numbers the rule used. */
export interface ObjectTruth {
  readonly classId: number;
  readonly className: ClassName;
  readonly specIndex: number;
  /** Bounds of the visible pixels, null when none is visible. */
  readonly box: PixelBox | null;
  readonly visiblePixels: number;
  readonly totalPixels: number;
  readonly labelled: boolean;
}

export interface RenderedScene {
  readonly width: number;
  readonly height: number;
  /** Packed RGB, `width * height * 3` bytes. */
  readonly data: Uint8Array;
  /** Labelled objects in drawing order (far to near). */
  readonly labels: GroundTruthBox[];
  readonly objects: ObjectTruth[];
  readonly params: DomainParams;
}

export interface RenderOptions {
  /** Seeds sensor noise and rain streaks (vary it per frame for a live stream). Default 0. */
  readonly seed?: number;
  /** Sensor noise on/off (tests of exact pixels turn it off). Default true. */
  readonly noise?: boolean;
  readonly labelRule?: LabelRule;
}

function validateScene(scene: SceneDescription): void {
  const { width, height } = scene;
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width < 8 ||
    height < 8 ||
    width > 8192 ||
    height > 8192
  ) {
    throw new ScenesError('SCENES_ERR_SCENE', `frame size must be integers within 8..8192, got ${width}x${height}`);
  }
  if (scene.objects.length > 60000) throw new ScenesError('SCENES_ERR_SCENE', 'too many objects');
}

/** Rasterises one drawable into its own plane, then composites it into the frame; returns its silhouette size. */
function composite(buf: FrameBuffers, drawable: Drawable, id: number, camera: Homography): number {
  const partContours: Contour[][] = drawable.parts.map((p) => p.contours.map((c) => camera.applyContour(c)));
  const all = partContours.flat();
  if (all.length === 0) return 0;
  const [minX, minY, maxX, maxY] = contoursBounds(all);
  const originX = Math.floor(minX);
  const originY = Math.floor(minY);
  const w = Math.ceil(maxX) - originX + 1;
  const h = Math.ceil(maxY) - originY + 1;
  if (!(w > 0 && h > 0)) return 0;
  if (w * h > 64_000_000)
    throw new ScenesError(
      'SCENES_ERR_SCENE',
      `a ${drawable.kind} spans ${w}x${h} pixels; objects must stay within 64 Mpx`,
    );
  const plane = { data: new Uint8Array(w * h), width: w, height: h, originX, originY };
  partContours.forEach((contours, k) => {
    fillContours(plane, contours, k + 1);
  });
  let total = 0;
  const { width, height, rgb, ids, distance, emissive } = buf;
  const q = quantiseDistance(drawable.distance);
  for (let row = 0; row < h; row++) {
    const y = originY + row;
    const inside = y >= 0 && y < height;
    // Top-lit shading: tops of objects slightly brighter than their bottoms.
    const shade = 1.1 - (0.22 * row) / h;
    for (let col = 0; col < w; col++) {
      const v = plane.data[row * w + col] as number;
      if (v === 0) continue;
      total++;
      const x = originX + col;
      if (!inside || x < 0 || x >= width) continue;
      const part = drawable.parts[v - 1];
      if (!part) continue;
      const i = y * width + x;
      const k = part.flat || part.emissive ? 1 : shade;
      rgb[i * 3] = part.color[0] * k;
      rgb[i * 3 + 1] = part.color[1] * k;
      rgb[i * 3 + 2] = part.color[2] * k;
      ids[i] = id;
      distance[i] = q;
      emissive[i] = part.emissive ? 1 : 0;
    }
  }
  return total;
}

interface Visible {
  count: number;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

function visibleStats(buf: FrameBuffers, n: number): Visible[] {
  const stats: Visible[] = Array.from({ length: n + 1 }, () => ({
    count: 0,
    minX: Infinity,
    minY: Infinity,
    maxX: -1,
    maxY: -1,
  }));
  const { width, height, ids } = buf;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const id = ids[y * width + x] as number;
      if (id === 0) continue;
      const s = stats[id] as Visible;
      s.count++;
      if (x < s.minX) s.minX = x;
      if (x > s.maxX) s.maxX = x;
      if (y < s.minY) s.minY = y;
      if (y > s.maxY) s.maxY = y;
    }
  }
  return stats;
}

/** Sensor noise standard deviation for a domain (grain by day, strong at night). */
export function sensorSigma(params: DomainParams): number {
  return 1 + 9 * params.night + 1.5 * params.rain;
}

export function renderScene(
  scene: SceneDescription,
  params: DomainParams = DAY,
  options: RenderOptions = {},
): RenderedScene {
  validateScene(scene);
  const rule = options.labelRule ?? DEFAULT_LABEL_RULE;
  const seed = options.seed ?? 0;
  const { width, height } = scene;
  const camera = cameraHomography(width, height, params);
  const buf = createFrameBuffers(width, height);
  renderBackground(buf, scene.background, camera);
  const drawables = buildDrawables(scene, params.style, params.night * 0.6);
  if (drawables.length > 65535) throw new ScenesError('SCENES_ERR_SCENE', 'too many drawables for 16-bit ids');
  const totals = drawables.map((d, k) => composite(buf, d, k + 1, camera));
  const stats = visibleStats(buf, drawables.length);

  const lights: Light[] = [];
  drawables.forEach((d, k) => {
    for (const l of d.lights) {
      const [x, y] = camera.apply(l.x, l.y);
      const px = Math.floor(x);
      const py = Math.floor(y);
      // A lamp hidden behind something nearer does not glare.
      if (px >= 0 && py >= 0 && px < width && py < height && buf.ids[py * width + px] !== k + 1) continue;
      lights.push({ ...l, x, y, radius: l.radius * camera.scaleAt(l.x, l.y) });
    }
  });
  applyNight(buf, params.night);
  applyFog(buf, params.fog, params.night);
  applyGlare(buf, lights, params.night, params.fog);
  applyRain(buf, params.rain, hashSeed(seed, 0x7261696e));
  if (options.noise !== false) applySensorNoise(buf, sensorSigma(params), hashSeed(seed, 0x6e6f6973));
  const data = quantise(buf);

  const objects: ObjectTruth[] = [];
  const labels: GroundTruthBox[] = [];
  drawables.forEach((d, k) => {
    if (d.classId === null) return;
    const s = stats[k + 1] as Visible;
    const total = totals[k] as number;
    const box: PixelBox | null = s.count > 0 ? [s.minX, s.minY, s.maxX + 1, s.maxY + 1] : null;
    const labelled = box !== null && isLabelled(rule, s.count, total, box[2] - box[0], box[3] - box[1]);
    const className = CLASS_NAMES[d.classId] as ClassName;
    objects.push({
      classId: d.classId,
      className,
      specIndex: d.specIndex,
      box,
      visiblePixels: s.count,
      totalPixels: total,
      labelled,
    });
    if (labelled && box) labels.push({ classId: d.classId, className, box, visibleFraction: s.count / total });
  });
  return { width, height, data, labels, objects, params };
}
