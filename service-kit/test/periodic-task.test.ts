import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PeriodicTask } from '../src/periodic-task.js';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PeriodicTask', () => {
  it('never runs twice at once: ticks during a slow run are skipped', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const task = new PeriodicTask({
      intervalMs: 5,
      run: async () => {
        active++;
        runs++;
        maxActive = Math.max(maxActive, active);
        await delay(40);
        active--;
      },
      onError: () => assert.fail('no error expected'),
    });
    task.start();
    await delay(150);
    await task.stop();
    assert.equal(maxActive, 1);
    assert.ok(runs >= 2, `runs ${runs}`);
    assert.ok(runs < 150 / 5, `runs ${runs} were not skipped`);
  });

  it('reports a failed run and runs again at the next tick', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const task = new PeriodicTask({
      intervalMs: 5,
      run: async () => {
        runs++;
        throw new Error(`run ${runs}`);
      },
      onError: (e) => errors.push(e),
    });
    task.start();
    await delay(60);
    await task.stop();
    assert.ok(runs >= 2);
    assert.equal(errors.length, runs);
  });

  it('stop() waits for the run in progress and no run starts after it', async () => {
    let finished = false;
    let runs = 0;
    const task = new PeriodicTask({
      intervalMs: 5,
      run: async () => {
        runs++;
        await delay(30);
        finished = true;
      },
      onError: () => undefined,
    });
    task.start();
    while (!task.busy) await delay(1);
    await task.stop();
    assert.equal(finished, true);
    const after = runs;
    await delay(30);
    assert.equal(runs, after);
  });
});
