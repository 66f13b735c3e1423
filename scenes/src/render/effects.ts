/**
 * Domain effects applied to a composited frame, in the order light would suffer them:
 * ambient light (night) → fog → glare from lights → rain → sensor noise.
 */

import type { Rgb } from '../raster/color.js';
import type { Light } from '../objects/drawable.js';
import { Rng } from '../prng.js';
import { SKY_DISTANCE, type FrameBuffers } from './frame-buffers.js';

const FOG_COLOR: Rgb = [202, 205, 210];
const RAIN_COLOR: Rgb = [215, 218, 224];

/** Ambient light factor of a night intensity (1 = daylight). */
export function ambientOf(night: number): number {
  return 1 - 0.84 * night;
}

/** Darkens toward moonlit blue; emissive pixels keep their light, the sky darkens further. */
export function applyNight(buf: FrameBuffers, night: number): void {
  if (night <= 0) return;
  const amb = ambientOf(night);
  const kr = amb * (1 - 0.15 * night);
  const kg = amb * (1 - 0.05 * night);
  const kb = amb * (1 + 0.15 * night);
  const sky = 1 - 0.5 * night;
  const { rgb, emissive, distance } = buf;
  for (let i = 0; i < emissive.length; i++) {
    if (emissive[i]) continue;
    const s = distance[i] === SKY_DISTANCE ? sky : 1;
    const o = i * 3;
    rgb[o] = (rgb[o] as number) * kr * s;
    rgb[o + 1] = (rgb[o + 1] as number) * kg * s;
    rgb[o + 2] = (rgb[o + 2] as number) * kb * s;
  }
}

/** Blends toward the fog colour by 1 - exp(-k·fog·(distance + 0.3)): far things fade first. */
export function applyFog(buf: FrameBuffers, fog: number, night: number): void {
  if (fog <= 0) return;
  const lut = new Float32Array(256);
  for (let q = 0; q < 256; q++) lut[q] = 1 - Math.exp(-0.28 * fog * (q / 8 + 0.3));
  // Fog is lit by the ambient light (plus a little scattered street light at night).
  const lit = Math.min(1, ambientOf(night) * 1.25);
  const fr = FOG_COLOR[0] * lit;
  const fg = FOG_COLOR[1] * lit;
  const fb = FOG_COLOR[2] * lit;
  const { rgb, distance } = buf;
  for (let i = 0; i < distance.length; i++) {
    const f = lut[distance[i] as number] as number;
    const o = i * 3;
    rgb[o] = (rgb[o] as number) + (fr - (rgb[o] as number)) * f;
    rgb[o + 1] = (rgb[o + 1] as number) + (fg - (rgb[o + 1] as number)) * f;
    rgb[o + 2] = (rgb[o + 2] as number) + (fb - (rgb[o + 2] as number)) * f;
  }
}

/** Additive glare around lamps and headlights at night; fog widens the halo. */
export function applyGlare(buf: FrameBuffers, lights: readonly Light[], night: number, fog: number): void {
  if (night <= 0) return;
  const { width, height, rgb } = buf;
  for (const light of lights) {
    const strength = light.strength * night * 230;
    const radius = Math.max(2, light.radius * (1 + 1.5 * fog));
    const core = radius * 0.3;
    const reach = Math.ceil(radius * 2.2);
    const x0 = Math.max(0, Math.floor(light.x - reach));
    const x1 = Math.min(width - 1, Math.ceil(light.x + reach));
    const y0 = Math.max(0, Math.floor(light.y - reach));
    const y1 = Math.min(height - 1, Math.ceil(light.y + reach));
    const inv = 1 / (core * core);
    const [lr, lg, lb] = light.color;
    for (let y = y0; y <= y1; y++) {
      const dy = y + 0.5 - light.y;
      for (let x = x0; x <= x1; x++) {
        const dx = x + 0.5 - light.x;
        const q = 1 + (dx * dx + dy * dy) * inv;
        const g = strength / (q * q) / 255;
        if (g < 0.002) continue;
        const o = (y * width + x) * 3;
        rgb[o] = (rgb[o] as number) + lr * g;
        rgb[o + 1] = (rgb[o + 1] as number) + lg * g;
        rgb[o + 2] = (rgb[o + 2] as number) + lb * g;
      }
    }
  }
}

/** Overcast desaturation and darkening, then slanted light streaks. */
export function applyRain(buf: FrameBuffers, rain: number, seed: number): void {
  if (rain <= 0) return;
  const { width, height, rgb } = buf;
  const grey = 0.35 * rain;
  const dim = 1 - 0.22 * rain;
  for (let i = 0; i < width * height; i++) {
    const o = i * 3;
    const r = rgb[o] as number;
    const g = rgb[o + 1] as number;
    const b = rgb[o + 2] as number;
    const l = 0.299 * r + 0.587 * g + 0.114 * b;
    rgb[o] = (r + (l - r) * grey) * dim;
    rgb[o + 1] = (g + (l - g) * grey) * dim;
    rgb[o + 2] = (b + (l - b) * grey) * dim;
  }
  const rng = new Rng(seed);
  const scale = height / 480;
  const count = Math.round((rain * width * height) / 600);
  const wind = rng.range(-0.35, 0.35);
  for (let k = 0; k < count; k++) {
    const len = rng.range(8, 24) * scale;
    const angle = wind + rng.range(-0.05, 0.05);
    const alpha = rng.range(0.2, 0.5) * (0.5 + 0.5 * rain);
    let x = rng.range(-len, width);
    let y = rng.range(-len, height);
    const sx = Math.sin(angle);
    const sy = Math.cos(angle);
    const steps = Math.ceil(len);
    for (let s = 0; s < steps; s++, x += sx, y += sy) {
      const xi = Math.floor(x);
      const yi = Math.floor(y);
      if (xi < 0 || yi < 0 || xi >= width || yi >= height) continue;
      const o = (yi * width + xi) * 3;
      rgb[o] = (rgb[o] as number) + (RAIN_COLOR[0] - (rgb[o] as number)) * alpha;
      rgb[o + 1] = (rgb[o + 1] as number) + (RAIN_COLOR[1] - (rgb[o + 1] as number)) * alpha;
      rgb[o + 2] = (rgb[o + 2] as number) + (RAIN_COLOR[2] - (rgb[o + 2] as number)) * alpha;
    }
  }
}

/** Zero-mean sensor noise with standard deviation `sigma` (triangular distribution, xorshift32). */
export function applySensorNoise(buf: FrameBuffers, sigma: number, seed: number): void {
  if (sigma <= 0) return;
  const { rgb } = buf;
  let s = seed >>> 0 || 0x2545f491;
  // (u1 + u2 - 1) has standard deviation 1/sqrt(6).
  const k = (sigma * Math.sqrt(6)) / 4294967296;
  for (let i = 0; i < rgb.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const a = s >>> 0;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const b = s >>> 0;
    rgb[i] = (rgb[i] as number) + (a + b - 4294967296) * k;
  }
}

/** Rounds and clamps the float planes into packed 8-bit RGB. */
export function quantise(buf: FrameBuffers): Uint8Array {
  const out = new Uint8Array(buf.rgb.length);
  const { rgb } = buf;
  for (let i = 0; i < rgb.length; i++) {
    const v = rgb[i] as number;
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : (v + 0.5) | 0;
  }
  return out;
}
