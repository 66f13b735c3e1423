process.env.UV_THREADPOOL_SIZE ??= '16';

import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import {
  createGstFrameSource as create,
  type CreateGstFrameSourceOptions,
  type GstFrameSource,
} from '../src/capture/gst-frame-source.js';
import type { CaptureFailureEvent } from '../src/capture/capture-events.js';
import { fitInto, freePort, waitFor } from './capture-fixtures.js';

/** A port that was free a moment ago: nothing listens there. */
/** A "camera" that accepts the TCP connection and then never says anything. */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => sockets.delete(socket));
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
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

describe('capture failure handling', () => {
  it('reconnects an unreachable RTSP camera with growing backoff while another source keeps running', async () => {
    const port = await freePort();
    const dead = createGstFrameSource({
      cameraId: 'dead',
      uri: `rtsp://127.0.0.1:${port}/x`,
      output: { format: 'RGB', fit: fitInto(64) },
      backoff: { initialMs: 40, jitter: 0 },
    });
    const alive = createGstFrameSource({
      cameraId: 'alive',
      uri: 'testsrc://?fps=30&width=64&height=48',
      output: { format: 'RGB', fit: fitInto(64) },
    });
    const failures: CaptureFailureEvent[] = [];
    dead.on('failure', (e) => failures.push(e));
    const signal = new AbortController().signal;
    await Promise.all([dead.start(signal), alive.start(signal)]);
    const firstAlive = await alive.next();
    await waitFor('four restarts', () => dead.status().restarts >= 4);
    const s = dead.status();
    assert.equal(s.state, 'reconnecting');
    assert.match(
      s.lastError!,
      new RegExp(`^EDGE_ERR_SOURCE_UNAVAILABLE: .*cannot connect to 127\\.0\\.0\\.1:${port}: ECONNREFUSED`),
    );
    assert.deepEqual(
      failures.slice(0, 4).map((f) => f.restartInMs),
      [40, 80, 160, 320],
    );
    assert.ok(failures.every((f) => f.cameraId === 'dead' && f.code === 'EDGE_ERR_SOURCE_UNAVAILABLE'));
    // The healthy camera was never disturbed.
    const laterAlive = await alive.next();
    assert.ok(firstAlive !== null && laterAlive !== null && laterAlive.frameId > firstAlive.frameId);
    assert.equal(alive.status().state, 'running');
    assert.equal(alive.status().restarts, 0);
    await Promise.all([dead.stop(), alive.stop()]);
  });

  it('restarts a camera that connects but sends nothing with EDGE_ERR_SOURCE_STALLED', async () => {
    const server = await silentServer();
    const source = createGstFrameSource({
      cameraId: 'silent',
      uri: `rtsp://127.0.0.1:${server.port}/stream`,
      output: { format: 'RGB', fit: fitInto(64) },
      stallTimeoutMs: 400,
      backoff: { initialMs: 20, jitter: 0 },
    });
    const failures: CaptureFailureEvent[] = [];
    source.on('failure', (e) => failures.push(e));
    try {
      await source.start(new AbortController().signal);
      await waitFor('two stalls', () => failures.length >= 2);
      const s = source.status();
      assert.equal(s.lastErrorCode, 'EDGE_ERR_SOURCE_STALLED');
      assert.match(
        s.lastError!,
        /^EDGE_ERR_SOURCE_STALLED: camera source delivered no frame in time: no frame for \d+ ms \(stallTimeoutMs 400\)/,
      );
      assert.ok(s.restarts >= 1);
      assert.equal(s.framesCaptured, 0);
    } finally {
      await source.stop();
      await server.close();
    }
    // stop() waited for every torn-down run: all their pull and bus threads came back.
    assert.equal(source.status().threadsNotReleased, 0);
  });

  it('records a pipeline GStreamer cannot build and gives up after maxRestarts', async () => {
    // The Jetson CSI pipeline needs nvarguscamerasrc, which this machine does not have.
    const source = createGstFrameSource({
      cameraId: 'csi',
      uri: 'csi://0',
      source: { platform: 'jetson' },
      output: { format: 'RGB', fit: fitInto(64) },
      maxRestarts: 2,
      backoff: { initialMs: 10, jitter: 0 },
    });
    const states: string[] = [];
    source.on('status', (s) => states.push(s.state));
    await source.start(new AbortController().signal);
    const next = await source.next();
    assert.equal(next, null, 'next() is null once the source failed for good');
    const s = source.status();
    assert.equal(s.state, 'failed');
    assert.equal(s.restarts, 2);
    assert.match(
      s.lastError!,
      /^EDGE_ERR_PIPELINE: GStreamer pipeline failed: cannot build pipeline: no element "nvarguscamerasrc"/,
    );
    assert.equal(states.at(-1), 'failed');
    await source.stop();
    assert.equal(source.status().state, 'stopped');
  });
});
