/**
 * Person drawn from a small skeleton: legs (thigh + shin), pelvis, torso, arms, neck, head and hair.
 * Poses: standing/walking seen from the front or the side, and riding a bicycle (joints solved
 * with two-link inverse kinematics onto the saddle, pedals and handlebar).
 */

import { scaleColor, type Rgb } from '../raster/color.js';
import { capsule, ellipse, polygon } from '../raster/geometry.js';
import { Placement, type Part } from './drawable.js';
import type { PersonLook, PersonSpec } from './object-spec.js';
import { styledColor, styledNumber } from './styled.js';

type P = [number, number];

interface Limb {
  readonly root: P;
  readonly joint: P;
  readonly end: P;
}

interface Skeleton {
  readonly hip: P;
  readonly shoulder: P;
  readonly head: P;
  /** Far limb first. */
  readonly legs: readonly [Limb, Limb];
  readonly arms: readonly [Limb, Limb];
}

export interface PersonDims {
  readonly height: number;
  readonly leg: number;
  readonly torso: number;
  readonly headR: number;
  readonly shoulderHalf: number;
  readonly limb: number;
}

interface PersonColors {
  readonly skin: Rgb;
  readonly hair: Rgb;
  readonly shirt: Rgb;
  readonly pants: Rgb;
  readonly shoes: Rgb;
}

export function personDims(height: number, look: PersonLook, style: number): PersonDims {
  return {
    height,
    leg: styledNumber(look.legRatio, style) * height,
    torso: styledNumber(look.torsoRatio, style) * height,
    headR: styledNumber(look.headRatio, style) * height,
    shoulderHalf: (styledNumber(look.shoulderRatio, style) * height) / 2,
    // Never thinner than ~1.3 px or limbs break into dashes at small sizes.
    limb: Math.max(1.3, styledNumber(look.limbRatio, style) * height),
  };
}

function personColors(look: PersonLook, style: number): PersonColors {
  return {
    skin: styledColor(look.skin, style),
    hair: styledColor(look.hair, style),
    shirt: styledColor(look.shirt, style),
    pants: styledColor(look.pants, style),
    shoes: styledColor(look.shoes, style),
  };
}

/** Point at `len` from `from`, at `angle` radians from straight down (positive toward +u). */
function hang(from: P, len: number, angle: number): P {
  return [from[0] + Math.sin(angle) * len, from[1] - Math.cos(angle) * len];
}

/**
 * Two-link inverse kinematics: the joint between `root` and `target` for segment lengths l1, l2,
 * choosing the solution with the larger `preferU` * u (knees forward, elbows down/back).
 * An unreachable target is approached as far as the limb allows.
 */
export function solveTwoLink(root: P, target: P, l1: number, l2: number, preferU: number): Limb {
  const dx = target[0] - root[0];
  const dy = target[1] - root[1];
  const dist = Math.hypot(dx, dy);
  const reach = Math.max(Math.abs(l1 - l2) + 1e-6, Math.min(l1 + l2 - 1e-6, dist));
  const theta = Math.atan2(dy, dx);
  const cosA = (l1 * l1 + reach * reach - l2 * l2) / (2 * l1 * reach);
  const alpha = Math.acos(Math.max(-1, Math.min(1, cosA)));
  const j1: P = [root[0] + Math.cos(theta + alpha) * l1, root[1] + Math.sin(theta + alpha) * l1];
  const j2: P = [root[0] + Math.cos(theta - alpha) * l1, root[1] + Math.sin(theta - alpha) * l1];
  const joint = j1[0] * preferU >= j2[0] * preferU ? j1 : j2;
  const end: P = [root[0] + Math.cos(theta) * reach, root[1] + Math.sin(theta) * reach];
  return { root, joint, end };
}

function standingSkeleton(spec: PersonSpec, d: PersonDims): Skeleton {
  const hipV = d.leg;
  const shoulderV = d.leg + d.torso;
  const headV = shoulderV + 0.035 * d.height + d.headR;
  const upperArm = 0.19 * d.height;
  const foreArm = 0.17 * d.height;
  const thigh = d.leg * 0.52;
  const shin = d.leg * 0.5;
  if (spec.view === 'front') {
    const hipHalf = d.shoulderHalf * 0.42;
    const stance = spec.stride * 0.06 * d.height;
    const legs = [-1, 1].map((side) => {
      const root: P = [side * hipHalf, hipV];
      const end: P = [side * (hipHalf + stance), 0];
      return { root, joint: [(root[0] + end[0]) / 2, (root[1] + end[1]) / 2] as P, end };
    }) as [Limb, Limb];
    const arms = (
      [
        [-1, spec.armLeft],
        [1, spec.armRight],
      ] as const
    ).map(([side, angle]) => {
      const root: P = [side * (d.shoulderHalf - d.limb * 0.45), shoulderV - d.limb * 0.5];
      const joint = hang(root, upperArm, side * angle);
      return { root, joint, end: hang(joint, foreArm, side * (angle + 0.15)) };
    }) as [Limb, Limb];
    return { hip: [0, hipV], shoulder: [0, shoulderV], head: [0, headV], legs, arms };
  }
  // Side view walking: legs swing opposite to each other, arms opposite to legs.
  const swing = spec.stride * 0.5 * Math.sin(spec.walkPhase);
  const bendNear = 0.08 + spec.stride * 0.3 * (1 - Math.cos(spec.walkPhase));
  const bendFar = 0.08 + spec.stride * 0.3 * (1 + Math.cos(spec.walkPhase));
  const hip: P = [0, hipV];
  const leg = (angle: number, bend: number): Limb => {
    const joint = hang(hip, thigh, angle);
    return { root: hip, joint, end: hang(joint, shin, angle - bend) };
  };
  let legs: [Limb, Limb] = [leg(-swing, bendFar), leg(swing, bendNear)];
  // Keep the lower foot on the ground.
  const lift = -Math.min(legs[0].end[1], legs[1].end[1]);
  const up = (p: P): P => [p[0], p[1] + lift];
  legs = legs.map((l) => ({ root: up(l.root), joint: up(l.joint), end: up(l.end) })) as [Limb, Limb];
  const lean = spec.stride * 0.06 * d.height;
  const shoulder: P = [lean, shoulderV + lift];
  const armRoot: P = [lean, shoulderV + lift - d.limb * 0.5];
  const arm = (angle: number): Limb => {
    const joint = hang(armRoot, upperArm, angle);
    return { root: armRoot, joint, end: hang(joint, foreArm, angle + 0.35) };
  };
  const arms: [Limb, Limb] = [arm(swing * 1.1 + spec.armLeft * 0.3), arm(-swing * 1.1 + spec.armRight * 0.3)];
  return { hip: up(hip), shoulder, head: [lean + 0.01 * d.height, headV + lift], legs, arms };
}

/** Riding pose: hip on the saddle, feet on the pedals, hands on the grip (bike-local up coordinates). */
export function ridingSkeleton(d: PersonDims, saddle: P, pedals: readonly [P, P], grip: P): Skeleton {
  const hip: P = [saddle[0], saddle[1] + d.limb * 0.4];
  const thigh = d.leg * 0.52;
  const shin = d.leg * 0.5;
  const legs = [solveTwoLink(hip, pedals[1], thigh, shin, 1), solveTwoLink(hip, pedals[0], thigh, shin, 1)] as [
    Limb,
    Limb,
  ];
  // Lean the torso toward the handlebar.
  const lean = Math.atan2(grip[0] - hip[0], Math.max(1e-6, d.torso * 0.9));
  const shoulder: P = [hip[0] + Math.sin(lean) * d.torso, hip[1] + Math.cos(lean) * d.torso];
  const arm = solveTwoLink(shoulder, grip, 0.19 * d.height, 0.17 * d.height, -1);
  const neck = 0.035 * d.height + d.headR;
  const head: P = [shoulder[0] + Math.sin(lean * 0.5) * neck, shoulder[1] + Math.cos(lean * 0.5) * neck];
  return { hip, shoulder, head, legs, arms: [arm, arm] };
}

function limbParts(
  pl: Placement,
  limb: Limb,
  width: number,
  upper: Rgb,
  lower: Rgb,
  endColor: Rgb,
  endR: number,
): Part[] {
  return [
    { contours: [pl.contour(capsule(limb.root[0], limb.root[1], limb.joint[0], limb.joint[1], width))], color: upper },
    {
      contours: [pl.contour(capsule(limb.joint[0], limb.joint[1], limb.end[0], limb.end[1], width * 0.9))],
      color: lower,
    },
    { contours: [pl.contour(ellipse(limb.end[0], limb.end[1], endR * 1.1, endR * 0.8))], color: endColor },
  ];
}

function skeletonParts(pl: Placement, sk: Skeleton, d: PersonDims, c: PersonColors, view: 'front' | 'side'): Part[] {
  const parts: Part[] = [];
  const far = 0.78;
  const legW = d.limb * 1.15;
  const armW = d.limb * 0.9;
  const footR = Math.max(1, d.height * 0.028);
  const handR = Math.max(0.8, d.height * 0.022);
  const hipHalf = view === 'front' ? d.shoulderHalf * 0.8 : d.shoulderHalf * 0.5;
  const chestHalf = view === 'front' ? d.shoulderHalf : d.shoulderHalf * 0.55;
  const [farLeg, nearLeg] = sk.legs;
  const [farArm, nearArm] = sk.arms;
  const hx = sk.hip[0];
  const hy = sk.hip[1];
  const sx = sk.shoulder[0];
  const sy = sk.shoulder[1];
  if (view === 'side') {
    parts.push(
      ...limbParts(pl, farArm, armW, scaleColor(c.shirt, far), scaleColor(c.skin, far), scaleColor(c.skin, far), handR),
    );
  }
  parts.push(
    ...limbParts(
      pl,
      farLeg,
      legW,
      view === 'side' ? scaleColor(c.pants, far) : c.pants,
      view === 'side' ? scaleColor(c.pants, far) : c.pants,
      c.shoes,
      footR,
    ),
  );
  parts.push(...limbParts(pl, nearLeg, legW, c.pants, c.pants, c.shoes, footR));
  // Pelvis, then torso tapering from the shoulders to the hips (rotated with the spine when leaning).
  const ax = sx - hx;
  const ay = sy - hy;
  const len = Math.hypot(ax, ay) || 1;
  const nx = ay / len;
  const ny = -ax / len;
  const hipTop: P = [hx + (ax / len) * d.limb * 0.8, hy + (ay / len) * d.limb * 0.8];
  parts.push({
    contours: [
      pl.contour(
        polygon([
          [hx - nx * hipHalf, hy - ny * hipHalf - d.limb * 0.6],
          [hx + nx * hipHalf, hy + ny * hipHalf - d.limb * 0.6],
          [hipTop[0] + nx * hipHalf, hipTop[1] + ny * hipHalf],
          [hipTop[0] - nx * hipHalf, hipTop[1] - ny * hipHalf],
        ]),
      ),
    ],
    color: c.pants,
  });
  parts.push({
    contours: [
      pl.contour(
        polygon([
          [hx - nx * hipHalf * 0.95, hy - ny * hipHalf * 0.95],
          [hx + nx * hipHalf * 0.95, hy + ny * hipHalf * 0.95],
          [sx + nx * chestHalf, sy + ny * chestHalf],
          [sx - nx * chestHalf, sy - ny * chestHalf],
        ]),
      ),
    ],
    color: c.shirt,
  });
  const neckW = Math.max(1.2, d.height * 0.06);
  parts.push({
    contours: [pl.contour(capsule(sx, sy - d.limb * 0.3, sk.head[0], sk.head[1] - d.headR * 0.7, neckW))],
    color: c.skin,
  });
  // Hair first, offset upward and backward, so the face covers all but a cap.
  const back = view === 'side' ? -d.headR * 0.18 : 0;
  parts.push({
    contours: [pl.contour(ellipse(sk.head[0] + back, sk.head[1] + d.headR * 0.16, d.headR * 0.9, d.headR * 0.95))],
    color: c.hair,
  });
  parts.push({ contours: [pl.contour(ellipse(sk.head[0], sk.head[1], d.headR * 0.82, d.headR))], color: c.skin });
  if (view === 'front') {
    parts.push(...limbParts(pl, farArm, armW, c.shirt, c.shirt, c.skin, handR));
  }
  parts.push(...limbParts(pl, nearArm, armW, c.shirt, view === 'side' ? c.skin : c.shirt, c.skin, handR));
  return parts;
}

/** Parts of a standing or walking person. */
export function personParts(spec: PersonSpec, style: number): Part[] {
  const d = personDims(spec.height, spec.look, style);
  const pl = new Placement(spec.x, spec.y, spec.facing);
  return skeletonParts(pl, standingSkeleton(spec, d), d, personColors(spec.look, style), spec.view);
}

/** Parts of a rider, given bicycle anchor points in the bicycle's placement. */
export function riderParts(
  pl: Placement,
  height: number,
  look: PersonLook,
  style: number,
  anchors: { saddle: P; pedals: readonly [P, P]; grip: P },
): Part[] {
  const d = personDims(height, look, style);
  const sk = ridingSkeleton(d, anchors.saddle, anchors.pedals, anchors.grip);
  return skeletonParts(pl, sk, d, personColors(look, style), 'side');
}
