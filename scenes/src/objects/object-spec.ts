/**
 * Scene content as data. A spec holds every random draw already made (including both the normal
 * and the alternative "style" look), so rendering one layout under different domains (day vs
 * night, style 0 vs 1) changes appearance only, never the layout.
 */

import type { Rgb } from '../raster/color.js';

/** Class ids follow COCO order for these three classes' relative order, so names match COCO models by name. */
export const CLASS_NAMES = ['person', 'bicycle', 'car'] as const;
export type ClassName = (typeof CLASS_NAMES)[number];
export const CLASS_ID: Readonly<Record<ClassName, number>> = { person: 0, bicycle: 1, car: 2 };

/** A value with a normal look and an alternative look; the style domain interpolates between them. */
export type Styled<T> = readonly [base: T, alt: T];

export interface PersonLook {
  readonly skin: Styled<Rgb>;
  readonly hair: Styled<Rgb>;
  readonly shirt: Styled<Rgb>;
  readonly pants: Styled<Rgb>;
  readonly shoes: Styled<Rgb>;
  /** Fractions of body height. */
  readonly legRatio: Styled<number>;
  readonly torsoRatio: Styled<number>;
  readonly headRatio: Styled<number>;
  readonly shoulderRatio: Styled<number>;
  readonly limbRatio: Styled<number>;
}

export interface PersonSpec {
  readonly kind: 'person';
  /** Ground contact point (between the feet), scene pixels. */
  readonly x: number;
  readonly y: number;
  /** Standing height in pixels. */
  readonly height: number;
  readonly view: 'front' | 'side';
  readonly facing: 1 | -1;
  /** Walk cycle phase (radians) and stride 0 (standing) .. 1 (long step). */
  readonly walkPhase: number;
  readonly stride: number;
  /** Arm angles from hanging straight down, radians, positive = outward/forward. */
  readonly armLeft: number;
  readonly armRight: number;
  readonly look: PersonLook;
}

export interface RiderSpec {
  readonly height: number;
  readonly look: PersonLook;
}

export interface BicycleSpec {
  readonly kind: 'bicycle';
  readonly x: number;
  readonly y: number;
  readonly wheelRadius: number;
  readonly facing: 1 | -1;
  readonly crankPhase: number;
  readonly frameColor: Styled<Rgb>;
  readonly tyreColor: Styled<Rgb>;
  /** Wheelbase in wheel radii. */
  readonly wheelbase: Styled<number>;
  /** Tyre thickness in wheel radii. */
  readonly tyre: Styled<number>;
  readonly rider?: RiderSpec;
}

export interface CarSpec {
  readonly kind: 'car';
  readonly x: number;
  readonly y: number;
  /** Side view: bumper-to-bumper length; front view: body width. Pixels. */
  readonly size: number;
  readonly view: 'side' | 'front';
  readonly facing: 1 | -1;
  readonly body: Styled<Rgb>;
  readonly glass: Styled<Rgb>;
  /** Height / size. */
  readonly heightRatio: Styled<number>;
  /** Hood length / size (side view). */
  readonly hood: Styled<number>;
  /** Wheel radius / size. */
  readonly wheel: Styled<number>;
  readonly headlightsOn: boolean;
}

export type DistractorShape = 'sign' | 'lamp' | 'cone' | 'bush' | 'bin' | 'blob' | 'crate' | 'tree' | 'building';

export interface DistractorSpec {
  readonly kind: 'distractor';
  readonly shape: DistractorShape;
  readonly x: number;
  readonly y: number;
  /** Characteristic size in pixels (height for most shapes). */
  readonly size: number;
  readonly colors: readonly Rgb[];
  /** Shape-specific random draws in [0, 1). */
  readonly params: readonly number[];
}

export type ObjectSpec = PersonSpec | BicycleSpec | CarSpec | DistractorSpec;

export interface ProceduralBackground {
  readonly kind: 'procedural';
  /** Horizon row in scene pixels (may be negative or beyond the frame). */
  readonly horizon: number;
  readonly skyTop: Rgb;
  readonly skyHorizon: Rgb;
  readonly groundNear: Rgb;
  readonly groundFar: Rgb;
  readonly road?: {
    readonly vanishX: number;
    readonly bottomX: number;
    readonly bottomHalfWidth: number;
    readonly color: Rgb;
    readonly marking: Rgb;
  };
  /** Seeds the texture noise. */
  readonly textureSeed: number;
}

export interface FlatBackground {
  readonly kind: 'flat';
  readonly color: Rgb;
  /** Row treated as the horizon for perspective/fog distance; default: the top of the frame. */
  readonly horizon?: number;
}

export type BackgroundSpec = ProceduralBackground | FlatBackground;

/** Everything needed to render one frame under any domain. */
export interface SceneDescription {
  readonly width: number;
  readonly height: number;
  readonly background: BackgroundSpec;
  readonly objects: readonly ObjectSpec[];
}
