import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RgbFrame } from '@edgefleet/vision';
import { CameraMetricsWindow } from '../src/metrics/camera-metrics-window.js';
import { frameLuma } from '../src/metrics/frame-luma.js';
import { SampleWindow } from '../src/metrics/sample-window.js';

function frame(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): RgbFrame {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 3);
  return { data, width, height, format: 'RGB', sourceWidth: width, sourceHeight: height };
}

describe('frameLuma', () => {
  it('is 0 and 0 on black, 1 and 0 on white', () => {
    assert.deepEqual(frameLuma(frame(64, 48, () => [0, 0, 0])), { mean: 0, std: 0 });
    const white = frameLuma(frame(64, 48, () => [255, 255, 255]));
    assert.ok(Math.abs(white.mean - 1) < 1e-9 && white.std < 1e-6);
  });

  it('gives mean 0.5 and std 0.5 for half black, half white columns, on the subsample', () => {
    const stripes = frame(64, 48, (x) => (Math.floor(x / 8) % 2 === 0 ? [0, 0, 0] : [255, 255, 255]));
    const l = frameLuma(stripes);
    assert.ok(Math.abs(l.mean - 0.5) < 1e-9, `mean ${l.mean}`);
    assert.ok(Math.abs(l.std - 0.5) < 1e-6, `std ${l.std}`);
  });

  it('weighs the channels by BT.601 and swaps them for BGR frames', () => {
    const red = frame(16, 16, () => [255, 0, 0]);
    assert.ok(Math.abs(frameLuma(red).mean - 0.299) < 1e-9);
    assert.ok(Math.abs(frameLuma({ ...red, format: 'BGR' }).mean - 0.114) < 1e-9);
  });
});

describe('SampleWindow', () => {
  it('keeps the last capacity samples for nearest-rank percentiles and the mean', () => {
    const w = new SampleWindow(100);
    assert.equal(w.percentile(50), 0);
    for (let i = 1; i <= 150; i++) w.add(i);
    assert.equal(w.size, 100);
    assert.equal(w.percentile(50), 100);
    assert.equal(w.percentile(95), 145);
    assert.equal(w.percentile(100), 150);
    assert.equal(w.mean(), 100.5);
  });
});

describe('CameraMetricsWindow', () => {
  it('reports timing percentiles, luma means and the counts it is given', () => {
    const w = new CameraMetricsWindow();
    for (let i = 1; i <= 20; i++) w.addTimings({ preMs: 1, inferMs: i, postMs: 2 });
    w.addLuma({ mean: 0.2, std: 0.1 });
    w.addLuma({ mean: 0.4, std: 0.3 });
    const { brightnessMean, ...m } = w.snapshot('cam', { fps: 4.5, framesDropped: 3 });
    assert.ok(Math.abs(brightnessMean - 0.3) < 1e-9, `brightness ${brightnessMean}`);
    assert.deepEqual(m, {
      cameraId: 'cam',
      fps: 4.5,
      framesDropped: 3,
      inferenceMsP50: 10,
      inferenceMsP95: 19,
      preMsP50: 1,
      postMsP50: 2,
      contrastMean: 0.2,
    });
  });
});
