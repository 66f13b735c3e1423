process.env.UV_THREADPOOL_SIZE ??= '16';

import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, it } from 'node:test';
import {
  createGstFrameSource as create,
  type CreateGstFrameSourceOptions,
  type GstFrameSource,
} from '../src/capture/gst-frame-source.js';
import type { CameraStatus } from '../src/capture/frame-source.js';
import { fitInto, sleep, waitFor } from './capture-fixtures.js';

// A real gc() for the memory check (node:test runs without --expose-gc).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Several full collections with turns of the event loop between, so freed ArrayBuffers are swept. */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}

// A failed assertion must not leave a pipeline running (it would keep the test process alive).
const started: GstFrameSource[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

function createGstFrameSource(options: CreateGstFrameSourceOptions): GstFrameSource {
  const source = create(options);
  started.push(source);
  return source;
}

describe('test pattern (live) source', () => {
  it('keeps one frame for a slow consumer, counts every drop, and holds no backlog in memory', async () => {
    const source = createGstFrameSource({
      cameraId: 'pattern',
      uri: 'testsrc://?pattern=ball&fps=30&width=640&height=480',
      output: { format: 'RGB', fit: fitInto(320) },
    });
    const states: CameraStatus['state'][] = [];
    source.on('status', (s) => states.push(s.state));
    await source.start(new AbortController().signal);
    try {
      const warmup = await source.next();
      assert.ok(warmup !== null);
      await collect();
      const before = process.memoryUsage().arrayBuffers;
      let consumed = 1;
      let lastId = warmup.frameId;
      for (let i = 0; i < 12; i++) {
        const f = await source.next();
        assert.ok(f !== null);
        assert.ok(f.frameId > lastId, 'frame ids increase');
        lastId = f.frameId;
        consumed += 1;
        // Known size: GStreamer scales from the very first frame.
        assert.deepEqual(
          [f.frame.width, f.frame.height, f.frame.sourceWidth, f.frame.sourceHeight],
          [320, 240, 640, 480],
        );
        await sleep(150); // ~6.7 fps consumer of a 30 fps source
      }
      const s = source.status();
      await collect();
      const growth = process.memoryUsage().arrayBuffers - before;
      const pending = s.framesCaptured - consumed - s.framesDropped;
      assert.ok(s.framesDropped > 0, `dropped ${s.framesDropped}`);
      assert.ok(
        pending === 0 || pending === 1,
        `captured ${s.framesCaptured} = consumed ${consumed} + dropped ${s.framesDropped} + pending (0 or 1), got pending ${pending}`,
      );
      // Every captured frame is 320x240x3 = 230 kB; the slot holds one, a queue would hold dozens.
      assert.ok(growth <= 3 * 320 * 240 * 3, `array buffers grew by ${growth} bytes`);
      assert.equal(s.state, 'running');
    } finally {
      await source.stop();
    }
    assert.equal(await source.next(), null);
    assert.deepEqual(states, ['starting', 'running', 'stopped']);
  });

  it('resolves a waiting next() with the next frame and stops on abort', async () => {
    const source = createGstFrameSource({
      cameraId: 'p2',
      uri: 'testsrc://?fps=20&width=160&height=120',
      output: { format: 'BGR', fit: fitInto(160) },
    });
    const ac = new AbortController();
    await source.start(ac.signal);
    const f = await source.next();
    assert.ok(f !== null);
    assert.equal(f.frame.format, 'BGR');
    assert.ok(Math.abs(f.timestampMs - Date.now()) < 60_000, 'timestamps are wall-clock ms');
    ac.abort();
    await waitFor('stopped after abort', () => source.status().state === 'stopped');
    assert.equal(await source.next(), null);
  });

  it('removes its listeners on stop()', async () => {
    const source = createGstFrameSource({
      cameraId: 'p3',
      uri: 'testsrc://?fps=10&width=64&height=48',
      output: { format: 'RGB', fit: fitInto(64) },
    });
    let calls = 0;
    source.on('status', () => {
      calls += 1;
    });
    await source.start(new AbortController().signal);
    await source.next();
    await source.stop();
    const after = calls;
    await source.stop();
    assert.ok(after >= 2);
    assert.equal(calls, after, 'no events after stop()');
  });

  it('resolves the output lazily and records a failing resolution like a pipeline failure', async () => {
    let attempts = 0;
    const source = createGstFrameSource({
      cameraId: 'p4',
      uri: 'testsrc://?fps=10&width=64&height=48',
      backoff: { initialMs: 20, jitter: 0 },
      output: async () => {
        attempts += 1;
        if (attempts === 1) throw new Error('model not loaded yet');
        return { format: 'RGB', fit: fitInto(32) };
      },
    });
    await source.start(new AbortController().signal);
    assert.match(source.status().lastError!, /model not loaded yet/);
    const f = await source.next();
    assert.ok(f !== null);
    assert.deepEqual([f.frame.width, f.frame.height], [32, 24]);
    assert.equal(source.status().restarts, 1);
    await source.stop();
  });
});
