import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../src/backoff.js';

describe('Backoff', () => {
  it('doubles from 0.5 s up to 30 s without jitter', () => {
    const b = new Backoff({ jitter: 0 });
    const delays = Array.from({ length: 9 }, () => b.next());
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('spreads each delay by at most ±jitter and never above the maximum', () => {
    const low = new Backoff({ jitter: 0.2 }, () => 0);
    const high = new Backoff({ jitter: 0.2 }, () => 0.999999);
    assert.deepEqual([low.next(), low.next()], [400, 800]);
    assert.deepEqual([high.next(), high.next()], [600, 1200]);
    const capped = new Backoff({ initialMs: 30_000, jitter: 0.2 }, () => 0.999999);
    assert.equal(capped.next(), 30_000);
  });

  it('starts again from the initial delay after reset()', () => {
    const b = new Backoff({ jitter: 0 });
    b.next();
    b.next();
    assert.equal(b.attempts, 2);
    b.reset();
    assert.equal(b.next(), 500);
  });

  it('rejects inconsistent options', () => {
    assert.throws(() => new Backoff({ factor: 0.5 }), /factor >= 1/);
    assert.throws(() => new Backoff({ initialMs: 10, maxMs: 5 }), /maxMs >= initialMs/);
    assert.throws(() => new Backoff({ jitter: 1 }), /jitter < 1/);
  });
});

describe('Backoff.delay', () => {
  it('gives the delay of a numbered retry with the same formula as next(), without counting a failure', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.2 }, () => 0);
    assert.deepEqual([b.delay(0), b.delay(1), b.delay(5)], [80, 160, 1000 * 0.8]);
    assert.equal(b.attempts, 0);
    assert.equal(b.next(), b.delay(0));
  });

  it('stays at the maximum for very large attempt numbers', () => {
    const b = new Backoff({ initialMs: 1, maxMs: 5000, jitter: 0 });
    assert.equal(b.delay(10_000), 5000);
  });
});
