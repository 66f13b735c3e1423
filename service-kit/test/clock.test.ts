import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '../src/clock.js';

describe('systemClock', () => {
  it('reads the wall clock', () => {
    const before = Date.now();
    const now = systemClock.now();
    assert.ok(now >= before && now <= Date.now());
  });

  it('runs a timer and clears one before it fires', async () => {
    let fired = 0;
    const cleared = systemClock.setTimeout(() => fired++, 5);
    systemClock.clearTimeout(cleared);
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 20));
    assert.equal(fired, 0);
  });
});
