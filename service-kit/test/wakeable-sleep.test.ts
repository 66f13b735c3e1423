import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WakeableSleep } from '../src/wakeable-sleep.js';

describe('WakeableSleep', () => {
  it('resolves after the delay when nobody wakes it', async () => {
    const sleep = new WakeableSleep();
    const started = performance.now();
    await sleep.sleep(30);
    assert.ok(performance.now() - started >= 25);
  });

  it('resolves at once on wake() and clears its timer', async () => {
    const sleep = new WakeableSleep();
    const started = performance.now();
    const pending = sleep.sleep(60_000);
    sleep.wake();
    await pending;
    assert.ok(performance.now() - started < 10_000);
  });

  it('does nothing on wake() when not sleeping, and the next sleep is not cut short by it', async () => {
    const sleep = new WakeableSleep();
    sleep.wake();
    let done = false;
    const pending = sleep.sleep(30).then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(done, false);
    await pending;
  });
});
