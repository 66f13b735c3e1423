/**
 * Turns a scene description into drawables in painter's order (far to near), applying the style
 * intensity to every object's look and proportions.
 */

import type { Drawable } from './drawable.js';
import { bicycleParts } from './bicycle.js';
import { carParts } from './car.js';
import { distractorParts } from './distractors.js';
import { CLASS_ID, type SceneDescription } from './object-spec.js';
import { personParts } from './person.js';

/** Largest relative distance; the sky and anything at or above the horizon. */
export const MAX_DISTANCE = 31;

export function horizonOf(scene: SceneDescription): number {
  const bg = scene.background;
  return bg.kind === 'procedural' ? bg.horizon : (bg.horizon ?? 0);
}

/**
 * Relative distance of a ground point on a flat ground plane: 1 at the frame bottom, growing as
 * 1/(y - horizon) toward the horizon (pinhole camera over a plane).
 */
export function groundDistance(y: number, horizon: number, height: number): number {
  const d = (y - horizon) / Math.max(1, height - horizon);
  return d <= 1 / MAX_DISTANCE ? MAX_DISTANCE : 1 / d;
}

export function buildDrawables(scene: SceneDescription, style: number, nightLit = 0): Drawable[] {
  const horizon = horizonOf(scene);
  const out: Drawable[] = [];
  scene.objects.forEach((spec, specIndex) => {
    const distance = groundDistance(spec.y, horizon, scene.height);
    switch (spec.kind) {
      case 'person':
        out.push({
          kind: 'person',
          classId: CLASS_ID.person,
          baseY: spec.y,
          distance,
          parts: personParts(spec, style),
          lights: [],
          specIndex,
        });
        break;
      case 'bicycle': {
        const { bike, rider } = bicycleParts(spec, style);
        out.push({
          kind: 'bicycle',
          classId: CLASS_ID.bicycle,
          baseY: spec.y,
          distance,
          parts: bike,
          lights: [],
          specIndex,
        });
        // The rider sits in front of its own bicycle but keeps the same depth for everything else.
        if (rider)
          out.push({
            kind: 'person',
            classId: CLASS_ID.person,
            baseY: spec.y + 1e-6,
            distance,
            parts: rider,
            lights: [],
            specIndex,
          });
        break;
      }
      case 'car': {
        const { parts, lights } = carParts(spec, style);
        out.push({ kind: 'car', classId: CLASS_ID.car, baseY: spec.y, distance, parts, lights, specIndex });
        break;
      }
      case 'distractor': {
        const { parts, lights } = distractorParts(spec, nightLit);
        out.push({ kind: spec.shape, classId: null, baseY: spec.y, distance, parts, lights, specIndex });
        break;
      }
    }
  });
  // Stable sort: equal depth keeps description order.
  return out
    .map((d, i) => ({ d, i }))
    .sort((a, b) => a.d.baseY - b.d.baseY || a.i - b.i)
    .map(({ d }) => d);
}
