import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../src/backoff.js';
import { type AttemptEnd, ReconnectLoop } from '../src/reconnect-loop.js';

function scripted(ends: AttemptEnd[], abort: AbortController) {
  const events: string[] = [];
  const loop = new ReconnectLoop({
    backoff: new Backoff({ initialMs: 1, maxMs: 8, jitter: 0 }),
    attempt: async () => {
      const end = ends.shift();
      if (!end) {
        abort.abort();
        return { healthy: false };
      }
      return end;
    },
    onConnecting: () => events.push('connecting'),
    onWaiting: (w) => events.push(`wait ${w.delayMs} #${w.attempt}`),
    onReconnect: () => events.push('reconnect'),
  });
  return { loop, events };
}

describe('ReconnectLoop', () => {
  it('backs off exponentially between failed attempts and starts over after a healthy one', async () => {
    const abort = new AbortController();
    const f = { healthy: false };
    const { loop, events } = scripted([f, f, f, { healthy: true }], abort);
    await loop.run(abort.signal);
    const waits = events.filter((e) => e.startsWith('wait'));
    assert.deepEqual(waits, ['wait 1 #1', 'wait 2 #2', 'wait 4 #3', 'wait 1 #1']);
    assert.equal(events.filter((e) => e === 'reconnect').length, 4);
  });

  it('retries at once, without a wait, after an attempt that asks for it', async () => {
    const abort = new AbortController();
    const { loop, events } = scripted([{ healthy: false, retryNow: true }], abort);
    await loop.run(abort.signal);
    assert.deepEqual(events, ['connecting', 'connecting']);
  });

  it('an abort cuts the wait short and ends the loop without another attempt', async () => {
    const abort = new AbortController();
    let attempts = 0;
    const reconnects: number[] = [];
    const loop = new ReconnectLoop({
      backoff: new Backoff({ initialMs: 60_000, maxMs: 60_000, jitter: 0 }),
      attempt: async () => {
        attempts++;
        return { healthy: false };
      },
      onWaiting: () => setTimeout(() => abort.abort(), 5),
      onReconnect: () => reconnects.push(attempts),
    });
    const started = performance.now();
    await loop.run(abort.signal);
    assert.ok(performance.now() - started < 10_000);
    assert.equal(attempts, 1);
    assert.deepEqual(reconnects, []);
  });

  it('does not start when the signal is already aborted', async () => {
    const abort = new AbortController();
    abort.abort();
    let attempts = 0;
    const loop = new ReconnectLoop({
      backoff: new Backoff(),
      attempt: async () => {
        attempts++;
        return { healthy: true };
      },
    });
    await loop.run(abort.signal);
    assert.equal(attempts, 0);
  });
});
