import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  OnnxDetector,
  setOnnxRuntimeLogLevel,
  type DetectResult,
  type Detector,
  type ModelInfo,
} from '@edgefleet/vision';
import { runtimeFailingDetector } from '@edgefleet/vision/testing/onnx-builder';
import { warmUp } from '../src/models/warm-up.js';

setOnnxRuntimeLogLevel('fatal');

/** A detector that records how many detections ran at once. */
function countingDetector(sessions: number): Detector & { calls: number; maxConcurrent: number } {
  let running = 0;
  const d = {
    calls: 0,
    maxConcurrent: 0,
    info: {
      path: 'counting.onnx',
      inputWidth: 8,
      inputHeight: 8,
      pixelFormat: 'RGB',
      sessions,
      thread: 'worker',
    } as unknown as ModelInfo,
    async detect(): Promise<DetectResult> {
      d.calls++;
      running++;
      d.maxConcurrent = Math.max(d.maxConcurrent, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return { detections: [], timings: { preMs: 0, inferMs: 0, postMs: 0 } };
    },
    close: async () => undefined,
  };
  return d;
}

describe('model warm-up', () => {
  it('runs one detection per session at once, every round, so each session of a replicated model is warm', async () => {
    const d = countingDetector(3);
    await warmUp(d, 2);
    assert.equal(d.calls, 6);
    assert.equal(d.maxConcurrent, 3);
  });

  it('fails with EDGE_ERR_MODEL_WARMUP when a real model cannot run on the grey frame', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'warm-up-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // Fails on frames with a pixel of 153 or brighter; the warm-up frame is mid-grey (128), so a 2-entry table is too small.
    const path = join(dir, 'fails.onnx');
    writeFileSync(path, runtimeFailingDetector({ tableSize: 2 }));
    const detector = await OnnxDetector.load(path, { providers: ['cpu'], thread: 'worker', replicas: 2 });
    t.after(() => detector.close());
    await assert.rejects(warmUp(detector, 1), {
      code: 'EDGE_ERR_MODEL_WARMUP',
      message: /fails\.onnx: run 1 of 1: .*(out of data bounds|indices)/,
    });
  });
});
