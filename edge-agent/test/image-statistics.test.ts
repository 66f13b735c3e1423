import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RgbFrame } from '@edgefleet/vision';
import { LUMA_GRID_CELLS } from '@edgefleet/proto';
import { type ImageStatistics, imageStatistics } from '../src/metrics/image-statistics.js';

type Pixel = [number, number, number];

function frame(width: number, height: number, pixel: (x: number, y: number) => Pixel): RgbFrame {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 3);
  return { data, width, height, format: 'RGB', sourceWidth: width, sourceHeight: height };
}

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected} ± ${tolerance}`);
}

function nearAll(actual: readonly number[], expected: readonly number[], tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) near(actual[i]!, expected[i]!, tolerance, `${what}[${i}]`);
}

function inRange(s: ImageStatistics): void {
  for (const [k, v] of Object.entries({ b: s.brightness, c: s.contrast, sat: s.saturation })) {
    assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, `${k} ${v}`);
  }
  assert.ok(Number.isFinite(s.sharpness) && s.sharpness >= 0 && s.sharpness <= 16, `sharpness ${s.sharpness}`);
  assert.equal(s.lumaGrid.length, LUMA_GRID_CELLS);
  for (const v of s.lumaGrid) assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, `grid ${v}`);
}

/** A deterministic pseudo-random byte stream (xorshift), so the property checks are reproducible. */
function bytes(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) & 0xff;
  };
}

describe('imageStatistics', () => {
  it('is all zeros on black, brightness 1 on white, and flat frames have no contrast, sharpness or grid spread', () => {
    const black = imageStatistics(frame(64, 48, () => [0, 0, 0]));
    assert.deepEqual(black, { brightness: 0, contrast: 0, sharpness: 0, saturation: 0, lumaGrid: Array(16).fill(0) });
    const white = imageStatistics(frame(64, 48, () => [255, 255, 255]));
    near(white.brightness, 1, 1e-9, 'white brightness');
    near(white.contrast, 0, 1e-6, 'white contrast');
    // A uniform grey 128: luma 128/255 (the BT.601 weights sum to 1), everywhere.
    const grey = imageStatistics(frame(64, 48, () => [128, 128, 128]));
    near(grey.brightness, 128 / 255, 1e-9, 'grey brightness');
    near(grey.contrast, 0, 1e-6, 'grey contrast');
    near(grey.sharpness, 0, 1e-12, 'grey sharpness');
    assert.equal(grey.saturation, 0);
    nearAll(grey.lumaGrid, Array(16).fill(128 / 255), 1e-9, 'grey grid');
  });

  it('gives mean 0.5, std 0.5 and a 0/1 grid for a frame black on the left half, white on the right', () => {
    const s = imageStatistics(frame(64, 48, (x) => (x < 32 ? [0, 0, 0] : [255, 255, 255])));
    near(s.brightness, 0.5, 1e-9, 'brightness');
    near(s.contrast, 0.5, 1e-6, 'contrast');
    // Row-major 4×4: columns 0-1 black, 2-3 white, in every row.
    const expected = [0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1];
    nearAll(s.lumaGrid, expected, 1e-9, 'grid');
    // Laplacian samples: rows 8..40 (5) × columns 8..56 (7) = 35. Only column 32 touches the edge, where the
    // Laplacian is 0 + 1 + 1 + 1 − 4·1 = −1: 5 squares of 1 over 35 samples.
    near(s.sharpness, 5 / 35, 1e-9, 'sharpness');
  });

  it('gives a grid that shows a blocked top half', () => {
    const s = imageStatistics(frame(64, 64, (_x, y) => (y < 32 ? [0, 0, 0] : [200, 200, 200])));
    nearAll(s.lumaGrid.slice(0, 8), Array(8).fill(0), 1e-12, 'top');
    nearAll(s.lumaGrid.slice(8), Array(8).fill(200 / 255), 1e-9, 'bottom');
  });

  it('gives saturation 1 for pure red, green or blue, 0 for greys, and 0.5 for (255, 128, 128)-like pixels', () => {
    for (const p of [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
    ] as Pixel[]) {
      assert.equal(imageStatistics(frame(32, 32, () => p)).saturation, 1);
    }
    assert.equal(imageStatistics(frame(32, 32, () => [90, 90, 90])).saturation, 0);
    near(imageStatistics(frame(32, 32, () => [200, 100, 100])).saturation, 0.5, 1e-12, '(200-100)/200');
  });

  it('gives the maximum sharpness, 16, on a one-pixel black/white checkerboard, and less on coarser ones', () => {
    // Each sampled pixel's 4 neighbours are its opposite: Laplacian ±4, mean 0, variance 16 exactly.
    const fine = imageStatistics(frame(64, 64, (x, y) => ((x + y) % 2 === 0 ? [0, 0, 0] : [255, 255, 255])));
    near(fine.sharpness, 16, 1e-9, 'fine');
    // Squares of 2 pixels: a pixel has 2 like and 2 unlike neighbours, Laplacian ±2, variance 4.
    const coarse = imageStatistics(
      frame(64, 64, (x, y) => (((x >> 1) + (y >> 1)) % 2 === 0 ? [0, 0, 0] : [255, 255, 255])),
    );
    near(coarse.sharpness, 4, 1e-9, 'coarse');
  });

  it('weighs the channels by BT.601 and swaps them for BGR frames', () => {
    const red = frame(16, 16, () => [255, 0, 0]);
    near(imageStatistics(red).brightness, 0.299, 1e-9, 'RGB red');
    near(imageStatistics({ ...red, format: 'BGR' }).brightness, 0.114, 1e-9, 'BGR red');
    assert.equal(imageStatistics({ ...red, format: 'BGR' }).saturation, 1);
  });

  it('keeps every value in range, on random frames of odd sizes, and BGR of a frame equals RGB of its swap', () => {
    for (const [w, h, seed] of [
      [640, 480, 1],
      [33, 17, 2],
      [7, 5, 3],
      [3, 2, 4],
      [1, 1, 5],
    ] as const) {
      const next = bytes(seed * 7919);
      const rgb = frame(w, h, () => [next(), next(), next()]);
      const s = imageStatistics(rgb);
      inRange(s);
      const swapped = new Uint8Array(rgb.data.length);
      for (let i = 0; i < rgb.data.length; i += 3) {
        swapped[i] = rgb.data[i + 2]!;
        swapped[i + 1] = rgb.data[i + 1]!;
        swapped[i + 2] = rgb.data[i]!;
      }
      const bgr = imageStatistics({ ...rgb, data: swapped, format: 'BGR' });
      near(bgr.brightness, s.brightness, 1e-9, 'BGR brightness');
      near(bgr.contrast, s.contrast, 1e-9, 'BGR contrast');
      near(bgr.sharpness, s.sharpness, 1e-9, 'BGR sharpness');
      near(bgr.saturation, s.saturation, 1e-12, 'BGR saturation');
      nearAll(bgr.lumaGrid, s.lumaGrid, 1e-9, 'BGR grid');
    }
  });

  it('is zeros on an empty frame', () => {
    const s = imageStatistics(frame(0, 0, () => [0, 0, 0]));
    assert.deepEqual(s, { brightness: 0, contrast: 0, sharpness: 0, saturation: 0, lumaGrid: Array(16).fill(0) });
  });
});
