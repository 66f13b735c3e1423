import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '@edgefleet/service-kit';
import { EdgeError } from '../src/errors.js';
import {
  CameraSupervisor,
  type RunCallbacks,
  type SupervisedRun,
  type SupervisorSnapshot,
} from '../src/capture/camera-supervisor.js';
import { requiredThreadpoolSize } from '../src/capture/gst-frame-source.js';
import { ManualTimers } from './capture-fixtures.js';

/** A run the test drives by hand through the callbacks the supervisor gave it. */
interface ScriptedRun extends SupervisedRun {
  callbacks: RunCallbacks;
  waiting: number | null;
  closed: boolean;
}

function harness(
  options: { stallTimeoutMs?: number; maxRestarts?: number; healthyResetMs?: number; failLaunch?: boolean } = {},
) {
  const timers = new ManualTimers();
  const runs: ScriptedRun[] = [];
  const snapshots: SupervisorSnapshot[] = [];
  const delays: (number | null)[] = [];
  let ended = 0;
  const supervisor = new CameraSupervisor({
    timers,
    backoff: new Backoff({ jitter: 0 }),
    options,
    launch: async (callbacks) => {
      if (options.failLaunch) throw new EdgeError('EDGE_ERR_SOURCE_UNAVAILABLE', 'cannot connect');
      const run: ScriptedRun = {
        callbacks,
        waiting: timers.now(),
        closed: false,
        waitingSince: () => run.waiting,
        close: async () => {
          run.closed = true;
        },
      };
      runs.push(run);
      return run;
    },
    onChange: (s) => snapshots.push(s),
    onFailure: (f) => delays.push(f.restartInMs),
    onEnd: () => {
      ended += 1;
    },
  });
  return { timers, runs, snapshots, delays, supervisor, ended: () => ended };
}

const pipelineError = (): EdgeError =>
  new EdgeError('EDGE_ERR_PIPELINE', 'Could not open resource for reading (from rtspsrc0)');

describe('CameraSupervisor', () => {
  it('goes starting → running on the first frame', async () => {
    const h = harness();
    await h.supervisor.start();
    assert.equal(h.supervisor.snapshot().state, 'starting');
    h.runs[0]!.callbacks.frame();
    assert.equal(h.supervisor.snapshot().state, 'running');
    assert.equal(h.supervisor.snapshot().lastFrameAt, h.timers.now());
    await h.supervisor.stop();
    assert.equal(h.supervisor.snapshot().state, 'stopped');
    assert.equal(h.runs[0]!.closed, true);
  });

  it('restarts after failures with growing delays and records the error', async () => {
    const h = harness();
    await h.supervisor.start();
    for (let i = 0; i < 4; i++) {
      h.runs[i]!.callbacks.fail(pipelineError());
      assert.equal(h.runs[i]!.closed, true, 'failed run torn down at once');
      const s = h.supervisor.snapshot();
      assert.equal(s.state, 'reconnecting');
      assert.equal(s.lastErrorCode, 'EDGE_ERR_PIPELINE');
      assert.match(s.lastError!, /^EDGE_ERR_PIPELINE: GStreamer pipeline failed: Could not open resource/);
      const delay = h.delays[i]!;
      await h.timers.advance(delay - 1);
      assert.equal(h.runs.length, i + 1, 'no restart before the backoff delay');
      await h.timers.advance(1);
      assert.equal(h.runs.length, i + 2, 'restarted after the delay');
      assert.equal(h.supervisor.snapshot().restarts, i + 1);
    }
    assert.deepEqual(h.delays, [500, 1000, 2000, 4000]);
    await h.supervisor.stop();
  });

  it('detects a stall and restarts with EDGE_ERR_SOURCE_STALLED', async () => {
    const h = harness({ stallTimeoutMs: 2000 });
    await h.supervisor.start();
    h.runs[0]!.callbacks.frame();
    h.runs[0]!.waiting = h.timers.now();
    await h.timers.advance(1900);
    assert.equal(h.supervisor.snapshot().state, 'running');
    await h.timers.advance(600);
    const s = h.supervisor.snapshot();
    assert.equal(s.state, 'reconnecting');
    assert.equal(s.lastErrorCode, 'EDGE_ERR_SOURCE_STALLED');
    assert.match(s.lastError!, /no frame for \d+ ms \(stallTimeoutMs 2000\)/);
    assert.equal(h.runs[0]!.closed, true);
    await h.supervisor.stop();
  });

  it('does not count time nobody waits for a frame as a stall', async () => {
    const h = harness({ stallTimeoutMs: 1000 });
    await h.supervisor.start();
    h.runs[0]!.callbacks.frame();
    h.runs[0]!.waiting = null; // an on-demand file source between next() calls
    await h.timers.advance(10_000);
    assert.equal(h.supervisor.snapshot().state, 'running');
    await h.supervisor.stop();
  });

  it('resets the backoff after a healthy run', async () => {
    const h = harness({ healthyResetMs: 5000 });
    await h.supervisor.start();
    h.runs[0]!.callbacks.fail(pipelineError());
    await h.timers.advance(500);
    h.runs[1]!.callbacks.fail(pipelineError());
    await h.timers.advance(1000);
    // Third run is healthy for long enough: the next failure starts over at 500 ms.
    h.runs[2]!.callbacks.frame();
    h.runs[2]!.waiting = null;
    await h.timers.advance(6000);
    h.runs[2]!.callbacks.fail(pipelineError());
    assert.deepEqual(h.delays, [500, 1000, 500]);
    await h.supervisor.stop();
  });

  it('keeps growing the delay when runs fail before being healthy for long', async () => {
    const h = harness({ healthyResetMs: 5000 });
    await h.supervisor.start();
    h.runs[0]!.callbacks.frame();
    h.runs[0]!.callbacks.fail(pipelineError());
    await h.timers.advance(500);
    h.runs[1]!.callbacks.frame();
    h.runs[1]!.waiting = null;
    await h.timers.advance(1000);
    h.runs[1]!.callbacks.fail(pipelineError());
    assert.deepEqual(h.delays, [500, 1000]);
    await h.supervisor.stop();
  });

  it('gives up in state failed after maxRestarts', async () => {
    const h = harness({ maxRestarts: 2, failLaunch: true });
    await h.supervisor.start();
    await h.timers.advance(500);
    await h.timers.advance(1000);
    const s = h.supervisor.snapshot();
    assert.equal(s.state, 'failed');
    assert.equal(s.restarts, 2);
    assert.equal(s.lastErrorCode, 'EDGE_ERR_SOURCE_UNAVAILABLE');
    assert.deepEqual(h.delays, [500, 1000, null]);
    assert.equal(h.ended(), 1);
    assert.deepEqual(h.timers.pendingDelays(), [], 'no timer left once failed');
    await h.supervisor.stop();
  });

  it('ends normally (stopped, no error) when a file finishes', async () => {
    const h = harness();
    await h.supervisor.start();
    h.runs[0]!.callbacks.frame();
    h.runs[0]!.callbacks.finish();
    const s = h.supervisor.snapshot();
    assert.equal(s.state, 'stopped');
    assert.equal(s.lastError, null);
    assert.equal(h.ended(), 1);
    assert.equal(h.runs[0]!.closed, true);
    await h.timers.advance(60_000);
    assert.equal(h.runs.length, 1, 'a finished file is not restarted');
  });

  it('ignores late callbacks of a run it already replaced', async () => {
    const h = harness();
    await h.supervisor.start();
    const first = h.runs[0]!;
    first.callbacks.fail(pipelineError());
    first.callbacks.fail(new EdgeError('EDGE_ERR_SOURCE_EOS'));
    first.callbacks.frame();
    assert.equal(h.supervisor.snapshot().state, 'reconnecting');
    assert.deepEqual(h.delays, [500]);
    await h.supervisor.stop();
  });

  it('cancels a pending restart on stop()', async () => {
    const h = harness();
    await h.supervisor.start();
    h.runs[0]!.callbacks.fail(pipelineError());
    await h.supervisor.stop();
    await h.timers.advance(60_000);
    assert.equal(h.runs.length, 1);
    assert.deepEqual(h.timers.pendingDelays(), []);
  });

  it('reports every state change', async () => {
    const h = harness();
    await h.supervisor.start();
    h.runs[0]!.callbacks.frame();
    h.runs[0]!.callbacks.fail(pipelineError());
    await h.timers.advance(500);
    h.runs[1]!.callbacks.frame();
    await h.supervisor.stop();
    const states = h.snapshots.map((s) => s.state).filter((s, i, a) => i === 0 || a[i - 1] !== s);
    assert.deepEqual(states, ['starting', 'running', 'reconnecting', 'running', 'stopped']);
  });
});

describe('requiredThreadpoolSize', () => {
  it('reserves two threads per camera plus the reserve, within libuv limits', () => {
    assert.equal(requiredThreadpoolSize(0), 4);
    assert.equal(requiredThreadpoolSize(1), 6);
    assert.equal(requiredThreadpoolSize(8), 20);
    assert.equal(requiredThreadpoolSize(8, 10), 26);
    assert.equal(requiredThreadpoolSize(10_000), 1024);
    assert.throws(() => requiredThreadpoolSize(-1), /non-negative integer/);
  });
});
