/**
 * Colour palettes: the normal look (plausible street colours) and the alternative look that the
 * style domain shifts toward (saturated, toy-like colours).
 */

import type { Rgb } from '../raster/color.js';

export const SKIN: readonly Rgb[] = [
  [255, 219, 172],
  [241, 194, 125],
  [224, 172, 105],
  [198, 134, 66],
  [141, 85, 36],
  [92, 56, 26],
];
export const SKIN_ALT: readonly Rgb[] = [
  [120, 200, 120],
  [150, 150, 230],
  [230, 140, 140],
  [200, 200, 90],
];
export const HAIR: readonly Rgb[] = [
  [20, 15, 10],
  [60, 40, 20],
  [120, 80, 40],
  [200, 170, 110],
  [160, 160, 160],
  [90, 30, 20],
];
export const HAIR_ALT: readonly Rgb[] = [
  [240, 60, 160],
  [60, 220, 240],
  [250, 250, 250],
  [140, 60, 220],
];
export const CLOTHES: readonly Rgb[] = [
  [30, 40, 80],
  [200, 30, 40],
  [240, 240, 240],
  [20, 20, 20],
  [60, 120, 60],
  [120, 90, 60],
  [90, 90, 100],
  [220, 180, 50],
  [40, 110, 170],
  [150, 60, 120],
];
export const PANTS: readonly Rgb[] = [
  [30, 35, 60],
  [20, 20, 25],
  [70, 70, 80],
  [110, 90, 70],
  [40, 60, 100],
  [150, 140, 120],
];
export const NEON: readonly Rgb[] = [
  [255, 90, 200],
  [90, 255, 140],
  [255, 240, 60],
  [60, 230, 255],
  [255, 140, 40],
  [180, 90, 255],
];
export const SHOES: readonly Rgb[] = [
  [20, 20, 20],
  [60, 40, 30],
  [230, 230, 230],
  [120, 30, 30],
];
export const CAR: readonly Rgb[] = [
  [200, 30, 30],
  [25, 55, 150],
  [235, 235, 235],
  [25, 25, 28],
  [160, 162, 168],
  [40, 100, 60],
  [225, 185, 40],
  [110, 75, 50],
  [90, 20, 30],
];
export const CAR_ALT: readonly Rgb[] = [
  [255, 130, 200],
  [130, 255, 210],
  [190, 130, 255],
  [255, 210, 120],
  [90, 230, 255],
  [250, 250, 110],
];
export const GLASS: readonly Rgb[] = [
  [60, 80, 100],
  [40, 55, 70],
  [90, 110, 130],
];
export const GLASS_ALT: readonly Rgb[] = [
  [20, 20, 25],
  [200, 180, 60],
  [200, 80, 80],
];
export const BIKE: readonly Rgb[] = [
  [200, 30, 30],
  [20, 20, 20],
  [30, 80, 180],
  [240, 240, 240],
  [40, 140, 60],
  [230, 120, 20],
  [150, 150, 155],
];
export const TYRE: readonly Rgb[] = [
  [25, 25, 25],
  [40, 38, 36],
];
export const TYRE_ALT: readonly Rgb[] = [
  [230, 230, 230],
  [200, 60, 60],
];
export const FOLIAGE: readonly Rgb[] = [
  [40, 100, 40],
  [60, 120, 50],
  [30, 80, 35],
  [90, 130, 60],
];
export const BUILDING: readonly Rgb[] = [
  [150, 140, 130],
  [120, 110, 105],
  [170, 160, 150],
  [100, 95, 100],
  [160, 120, 100],
];
export const WINDOW: readonly Rgb[] = [
  [70, 85, 100],
  [50, 60, 75],
  [110, 125, 140],
];
export const SKY_TOP: readonly Rgb[] = [
  [70, 120, 200],
  [110, 150, 210],
  [150, 170, 200],
  [90, 110, 160],
];
export const SKY_HORIZON: readonly Rgb[] = [
  [180, 205, 230],
  [210, 220, 230],
  [225, 200, 170],
  [190, 190, 200],
];
export const GROUND: readonly (readonly [Rgb, Rgb])[] = [
  [
    [80, 130, 60],
    [120, 150, 100],
  ],
  [
    [130, 110, 80],
    [160, 150, 130],
  ],
  [
    [120, 120, 115],
    [150, 150, 150],
  ],
  [
    [95, 120, 70],
    [140, 145, 120],
  ],
];
