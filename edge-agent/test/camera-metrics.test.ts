import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CameraMetricsWindow } from '../src/metrics/camera-metrics-window.js';
import { SampleWindow } from '../src/metrics/sample-window.js';

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
    w.addImageStatistics({ brightness: 0.2, contrast: 0.1 });
    w.addImageStatistics({ brightness: 0.4, contrast: 0.3 });
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
