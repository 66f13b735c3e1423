import { type ImageStats, LUMA_GRID_CELLS } from '@edgefleet/proto';
import type { RgbFrame } from '@edgefleet/vision';

/** Side of the coarse luma grid: LUMA_GRID_SIDE × LUMA_GRID_SIDE = LUMA_GRID_CELLS cells, row-major. */
const LUMA_GRID_SIDE = 4;

/**
 * What a frame looks like, in a few numbers (the wire's ImageStats), for per-camera metrics and drift
 * detection. Luma is BT.601 (0.299 R + 0.587 G + 0.114 B) normalised to [0, 1]:
 * - brightness: mean luma, [0, 1]; contrast: standard deviation of luma, [0, 1] (0.5 at most);
 * - sharpness: variance of the 4-neighbour Laplacian (centre −4, neighbours +1) of luma, taken at the
 *   sampled pixels with their full-resolution neighbours, about its mean over the whole frame, which is 0
 *   (the Laplacian sums to border terms only): the mean square. About the sample's own mean instead, a
 *   regular pattern whose period divides the sampling step would alias to 0. The Laplacian lies in [−4, 4],
 *   so this is in [0, 16]: 0 on a flat frame, 16 on a one-pixel black/white checkerboard; camera images
 *   give about 1e-3 to 1e-2, blurred or fogged ones less;
 * - saturation: mean HSV saturation, (max − min) / max per pixel (0 for black), [0, 1];
 * - lumaGrid: mean luma of each cell of a 4×4 grid, row-major from the top-left, each in [0, 1]: a moved or
 *   blocked camera shows here.
 */
export type ImageStatistics = ImageStats;

/** Every 8th pixel of every 8th row: 1/64 of the frame, about 5 000 samples at 640×480. */
const DEFAULT_STEP = 8;

/** Running sums over the sampled pixels. */
interface Sums {
  n: number;
  luma: number;
  lumaSq: number;
  lapSq: number;
  lapN: number;
  saturation: number;
  readonly cellSum: Float64Array;
  readonly cellN: Uint32Array;
}

/**
 * Image statistics of a frame the camera worker already holds, on a subsample (every `step`-th pixel of
 * every `step`-th row, `step` shrunk for frames under 32 pixels so each grid cell has samples) so the cost
 * per frame stays in the tens of microseconds. BGR frames are read with the channels swapped.
 */
export function imageStatistics(frame: RgbFrame, step = DEFAULT_STEP): ImageStatistics {
  const { width, height } = frame;
  const s = Math.max(1, Math.min(step, Math.floor(width / LUMA_GRID_SIDE), Math.floor(height / LUMA_GRID_SIDE)));
  const sums: Sums = {
    n: 0,
    luma: 0,
    lumaSq: 0,
    lapSq: 0,
    lapN: 0,
    saturation: 0,
    cellSum: new Float64Array(LUMA_GRID_CELLS),
    cellN: new Uint32Array(LUMA_GRID_CELLS),
  };
  accumulate(frame, s, sums);
  return summarise(sums);
}

function accumulate(frame: RgbFrame, step: number, sums: Sums): void {
  const { data, width, height } = frame;
  const [wr, wb] = frame.format === 'BGR' ? [0.114 / 255, 0.299 / 255] : [0.299 / 255, 0.114 / 255];
  const wg = 0.587 / 255;
  const lumaAt = (i: number) => wr * data[i]! + wg * data[i + 1]! + wb * data[i + 2]!;
  const stride = width * 3;
  for (let y = 0; y < height; y += step) {
    const row = y * stride;
    const cellRow = Math.floor((y * LUMA_GRID_SIDE) / height) * LUMA_GRID_SIDE;
    const inner = y > 0 && y < height - 1;
    for (let x = 0; x < width; x += step) {
      const i = row + x * 3;
      const r = data[i]!;
      const g = data[i + 1]!;
      const b = data[i + 2]!;
      const luma = wr * r + wg * g + wb * b;
      sums.n++;
      sums.luma += luma;
      sums.lumaSq += luma * luma;
      const max = Math.max(r, g, b);
      const min = Math.min(r, g, b);
      if (max > 0) sums.saturation += (max - min) / max;
      const cell = cellRow + Math.floor((x * LUMA_GRID_SIDE) / width);
      sums.cellSum[cell]! += luma;
      sums.cellN[cell]!++;
      if (inner && x > 0 && x < width - 1) {
        const lap = lumaAt(i - 3) + lumaAt(i + 3) + lumaAt(i - stride) + lumaAt(i + stride) - 4 * luma;
        sums.lapSq += lap * lap;
        sums.lapN++;
      }
    }
  }
}

function summarise(sums: Sums): ImageStatistics {
  if (sums.n === 0) {
    return { brightness: 0, contrast: 0, sharpness: 0, saturation: 0, lumaGrid: new Array(LUMA_GRID_CELLS).fill(0) };
  }
  const brightness = sums.luma / sums.n;
  const lapVar = sums.lapN === 0 ? 0 : sums.lapSq / sums.lapN;
  const lumaGrid: number[] = [];
  for (let c = 0; c < LUMA_GRID_CELLS; c++) {
    const n = sums.cellN[c]!;
    // Only frames under 4 pixels wide or high leave a cell without samples: it takes the frame's mean.
    lumaGrid.push(clamp(n === 0 ? brightness : sums.cellSum[c]! / n, 1));
  }
  return {
    brightness: clamp(brightness, 1),
    contrast: clamp(Math.sqrt(Math.max(0, sums.lumaSq / sums.n - brightness * brightness)), 1),
    sharpness: clamp(lapVar, 16),
    saturation: clamp(sums.saturation / sums.n, 1),
    lumaGrid,
  };
}

/** Into [0, max]: rounding in the sums must not push a value out of its documented range. */
function clamp(v: number, max: number): number {
  return Math.min(max, Math.max(0, v));
}
