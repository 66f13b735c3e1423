/**
 * Background per pixel: sky gradient with clouds, textured ground in perspective, and a road with
 * lane markings that converges to a vanishing point. Pixels are mapped back through the camera
 * homography so a camera change moves the background with the objects.
 */

import { groundDistance, MAX_DISTANCE } from '../objects/build-drawables.js';
import type { BackgroundSpec } from '../objects/object-spec.js';
import type { Homography } from './homography.js';
import { quantiseDistance, SKY_DISTANCE, type FrameBuffers } from './frame-buffers.js';
import { ValueNoise } from './value-noise.js';

export function renderBackground(buf: FrameBuffers, bg: BackgroundSpec, camera: Homography): void {
  const { width, height, rgb, distance } = buf;
  const inv = camera.isIdentity ? null : camera.inverse();
  const m = inv?.m ?? [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const [m0, m1, m2, m3, m4, m5, m6, m7, m8] = m as [
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
  if (bg.kind === 'flat') {
    const horizon = bg.horizon ?? 0;
    const [r, g, b] = bg.color;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const px = x + 0.5;
        const py = y + 0.5;
        const v = inv ? (m3 * px + m4 * py + m5) / (m6 * px + m7 * py + m8) : py;
        const i = y * width + x;
        rgb[i * 3] = r;
        rgb[i * 3 + 1] = g;
        rgb[i * 3 + 2] = b;
        distance[i] = v <= horizon ? SKY_DISTANCE : quantiseDistance(groundDistance(v, horizon, height));
      }
    }
    return;
  }
  const noise = new ValueNoise(bg.textureSeed);
  const horizon = bg.horizon;
  const span = Math.max(1, height - horizon);
  const [st0, st1, st2] = bg.skyTop;
  const [sh0, sh1, sh2] = bg.skyHorizon;
  const [gn0, gn1, gn2] = bg.groundNear;
  const [gf0, gf1, gf2] = bg.groundFar;
  const road = bg.road;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      let u = px;
      let v = py;
      if (inv) {
        const w = m6 * px + m7 * py + m8;
        u = (m0 * px + m1 * py + m2) / w;
        v = (m3 * px + m4 * py + m5) / w;
      }
      const o = (y * width + x) * 3;
      const i = y * width + x;
      if (v < horizon) {
        const t = Math.max(0, Math.min(1, v / Math.max(1, horizon)));
        const cloud = noise.sample(u * 0.012, v * 0.035) * 14 + noise.sample(u * 0.05, v * 0.1) * 4;
        rgb[o] = st0 + (sh0 - st0) * t + cloud;
        rgb[o + 1] = st1 + (sh1 - st1) * t + cloud;
        rgb[o + 2] = st2 + (sh2 - st2) * t + cloud;
        distance[i] = SKY_DISTANCE;
        continue;
      }
      const d = (v - horizon) / span;
      const dist = d <= 1 / MAX_DISTANCE ? MAX_DISTANCE : 1 / d;
      distance[i] = quantiseDistance(dist);
      // Ground-plane coordinates: lateral position grows with distance, depth is the distance.
      // Texture lives on the ground plane: lateral and depth coordinates in the same world units,
      // so patches shrink toward the horizon; amplitude fades with distance to avoid aliasing.
      const gx = ((u - width / 2) / span) * dist * 2.2;
      const fade = 1 / (1 + dist * 0.15);
      const tex = (noise.sample(gx * 3, dist * 3) * 0.6 + noise.sample(gx * 11, dist * 11) * 0.4) * fade;
      const k = Math.min(1, d);
      if (road) {
        const cx = road.vanishX + (road.bottomX - road.vanishX) * d;
        const hw = road.bottomHalfWidth * d;
        const off = Math.abs(u - cx);
        if (off < hw) {
          const edge = off > hw * 0.94;
          const centre = off < hw * 0.02 && dist * 0.8 - Math.floor(dist * 0.8) < 0.5;
          const c = edge || centre ? road.marking : road.color;
          const n = tex * (edge || centre ? 6 : 10);
          rgb[o] = c[0] + n;
          rgb[o + 1] = c[1] + n;
          rgb[o + 2] = c[2] + n;
          continue;
        }
      }
      const n = tex * 22;
      rgb[o] = gf0 + (gn0 - gf0) * k + n;
      rgb[o + 1] = gf1 + (gn1 - gf1) * k + n * 1.1;
      rgb[o + 2] = gf2 + (gn2 - gf2) * k + n * 0.7;
    }
  }
}
