import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelHealth, percentile } from '../src/models/model-health.js';
import { cameraSeed, SplitSequence } from '../src/models/split-sequence.js';

/** Candidate frames among `frames` frames of a fresh sequence. */
function candidateShare(cameraId: string, basisPoints: number, frames: number, skip = 0): number {
  const s = new SplitSequence(cameraId);
  for (let i = 0; i < skip; i++) s.next(basisPoints);
  let n = 0;
  for (let i = 0; i < frames; i++) if (s.next(basisPoints)) n++;
  return n / frames;
}

describe('A/B split sequence', () => {
  it('puts 10 % of 2,000 frames on the candidate within ±2 points, for any camera and starting point', () => {
    for (const camera of ['front', 'gate-2', 'dock_7', 'x']) {
      for (const skip of [0, 1, 977, 123_457]) {
        const share = candidateShare(camera, 1000, 2000, skip);
        assert.ok(Math.abs(share - 0.1) <= 0.02, `${camera} from frame ${skip}: ${(share * 100).toFixed(2)} %`);
      }
    }
  });

  it('lands within ±2 points for every split from 0 to 100 %, over 2,000 frames', () => {
    for (let bp = 0; bp <= 10_000; bp += 250) {
      const share = candidateShare('cam', bp, 2000);
      assert.ok(Math.abs(share - bp / 10_000) <= 0.02, `${bp} bp: ${(share * 100).toFixed(2)} %`);
    }
    assert.equal(candidateShare('cam', 0, 2000), 0);
    assert.equal(candidateShare('cam', 10_000, 2000), 1);
  });

  it('spreads candidate frames evenly: at 10 % no two are closer than 5 frames or further than 15', () => {
    const s = new SplitSequence('front');
    const picks: number[] = [];
    for (let i = 0; i < 5000; i++) if (s.next(1000)) picks.push(i);
    const gaps = picks.slice(1).map((p, i) => p - picks[i]!);
    assert.ok(Math.min(...gaps) >= 5 && Math.max(...gaps) <= 15, `gaps ${Math.min(...gaps)}..${Math.max(...gaps)}`);
  });

  it('is deterministic per camera and differs between cameras', () => {
    const frames = (camera: string) => {
      const s = new SplitSequence(camera);
      return Array.from({ length: 200 }, () => s.next(1000));
    };
    assert.deepEqual(frames('front'), frames('front'));
    assert.notDeepEqual(frames('front'), frames('back'));
    assert.ok(cameraSeed('front') >= 0 && cameraSeed('front') < 1);
  });
});

describe('model health windows', () => {
  const policy = { maxErrorRate: 0.1, errorWindowFrames: 20, p95LatencyBudgetMs: 0, latencyWindowFrames: 10 };

  it('trips once the errors in the window exceed the allowed rate, and only once', () => {
    const h = new ModelHealth(policy);
    for (let i = 0; i < 100; i++) assert.equal(h.record({ inferMs: 1 }), null);
    assert.equal(h.record({ error: 'boom' }), null);
    assert.equal(h.record({ error: 'boom' }), null, '2 of 20 is the allowed 10 %');
    const breach = h.record({ error: 'indices out of bounds' });
    assert.deepEqual(breach, {
      kind: 'error_rate',
      reason: 'inference errors: 3 of the last 20 frames, above the 0.1 error rate (last: indices out of bounds)',
    });
    assert.equal(h.record({ error: 'boom' }), null);
    assert.ok(h.breached);
  });

  it('forgets errors that left the window', () => {
    const h = new ModelHealth(policy);
    for (let round = 0; round < 10; round++) {
      assert.equal(h.record({ error: 'x' }), null);
      assert.equal(h.record({ error: 'x' }), null);
      for (let i = 0; i < 18; i++) assert.equal(h.record({ inferMs: 1 }), null);
    }
  });

  it('judges the p95 latency over a full window against the budget', () => {
    const h = new ModelHealth({ ...policy, p95LatencyBudgetMs: 50 });
    for (let i = 0; i < 9; i++) assert.equal(h.record({ inferMs: 500 }), null, 'window not full yet');
    const breach = h.record({ inferMs: 500 });
    assert.equal(breach?.kind, 'latency');
    assert.equal(
      breach?.reason,
      'latency: p95 inference time 500.0 ms over the last 10 frames, above the 50 ms budget',
    );
    const ok = new ModelHealth({ ...policy, p95LatencyBudgetMs: 50, latencyWindowFrames: 40 });
    for (let i = 0; i < 100; i++)
      assert.equal(
        ok.record({ inferMs: i % 20 === 0 ? 400 : 10 }),
        null,
        'one slow frame in 20 stays under a p95 budget',
      );
    assert.equal(percentile([5, 1, 4, 2, 3], 0.95), 5);
  });
});
