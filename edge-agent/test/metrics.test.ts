import { systemClock } from '@edgefleet/service-kit';
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { AgentMetrics } from '../src/metrics/agent-metrics.js';
import { MetricsServer, type HealthReport } from '../src/metrics/metrics-server.js';
import { RateWindow } from '../src/metrics/rate-window.js';
import { Gauge, Registry } from 'prom-client';
import type { CameraStatus } from '../src/capture/frame-source.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition lines (enough of the format for our own output). */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find(
    (s) =>
      s.name === name &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
      Object.keys(s.labels).length === Object.keys(labels).length,
  )?.value;
}

function status(cameraId: string, over: Partial<CameraStatus> = {}): CameraStatus {
  return {
    cameraId,
    state: 'running',
    lastError: null,
    lastErrorAt: null,
    restarts: 0,
    framesCaptured: 0,
    framesDropped: 0,
    lastFrameAt: null,
    ...over,
  };
}

describe('metrics over HTTP', () => {
  let clock = 1_000_000;
  const metrics = new AgentMetrics({ clock: { ...systemClock, now: () => clock } });
  let health: HealthReport = { status: 'ok', cameras: 2 };
  const server = new MetricsServer({ port: 0, registry: metrics.registry, health: () => health });
  let base = '';

  before(async () => {
    await server.start();
    const { host, port } = server.address();
    assert.equal(host, '127.0.0.1', 'binds to loopback by default');
    base = server.url;
    assert.equal(base, `http://127.0.0.1:${port}`);
  });
  after(() => server.stop());

  const scrape = async () => {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parse(await res.text());
  };

  it('exposes per-frame timings as histograms by provider and model', async () => {
    const timings = [
      { preMs: 1, inferMs: 10, postMs: 0.5 },
      { preMs: 2, inferMs: 20, postMs: 0.5 },
      { preMs: 3, inferMs: 30, postMs: 1 },
    ];
    for (const t of timings) metrics.frameProcessed('cam-1', 'cpu', 'yolov8n', t, 2);
    metrics.frameProcessed('cam-2', 'cuda', 'yolox-s', { preMs: 1, inferMs: 4, postMs: 0.2 }, 0);
    const s = await scrape();
    assert.equal(value(s, 'edge_inference_ms_count', { provider: 'cpu', model: 'yolov8n' }), 3);
    assert.equal(value(s, 'edge_inference_ms_sum', { provider: 'cpu', model: 'yolov8n' }), 60);
    assert.equal(value(s, 'edge_inference_ms_bucket', { provider: 'cpu', model: 'yolov8n', le: '20' }), 2);
    assert.equal(value(s, 'edge_inference_ms_count', { provider: 'cuda', model: 'yolox-s' }), 1);
    assert.equal(value(s, 'edge_preprocess_ms_sum', { model: 'yolov8n' }), 6);
    assert.equal(value(s, 'edge_postprocess_ms_count', { model: 'yolov8n' }), 3);
    assert.equal(value(s, 'edge_frames_processed_total', { camera: 'cam-1' }), 3);
    assert.equal(value(s, 'edge_detections_total', { camera: 'cam-1' }), 6);
  });

  it('reports per-camera fps over the sliding window and decays to 0 when frames stop', async () => {
    // 10 frames, 100 ms apart, on a controlled clock: 10 fps.
    clock = 2_000_000;
    for (let i = 0; i < 10; i++) {
      metrics.frameProcessed('cam-fps', 'cpu', 'm', { preMs: 0, inferMs: 1, postMs: 0 }, 0);
      clock += 100;
    }
    assert.equal(value(await scrape(), 'edge_camera_fps', { camera: 'cam-fps' }), 10);
    clock += 10_000;
    assert.equal(value(await scrape(), 'edge_camera_fps', { camera: 'cam-fps' }), 0);
  });

  it('turns cumulative capture totals into counter increments and a one-hot state gauge', async () => {
    metrics.observeCamera(status('cam-3', { state: 'starting' }));
    let s = await scrape();
    assert.equal(
      value(s, 'edge_frames_captured_total', { camera: 'cam-3' }),
      0,
      'series exists before the first frame',
    );
    assert.equal(value(s, 'edge_camera_state', { camera: 'cam-3', state: 'starting' }), 1);
    metrics.observeCamera(status('cam-3', { framesCaptured: 100, framesDropped: 7 }));
    metrics.observeCamera(
      status('cam-3', { framesCaptured: 250, framesDropped: 9, restarts: 1, state: 'reconnecting' }),
    );
    s = await scrape();
    assert.equal(value(s, 'edge_frames_captured_total', { camera: 'cam-3' }), 250);
    assert.equal(value(s, 'edge_frames_dropped_total', { camera: 'cam-3' }), 9);
    assert.equal(value(s, 'edge_camera_restarts_total', { camera: 'cam-3' }), 1);
    assert.equal(value(s, 'edge_camera_state', { camera: 'cam-3', state: 'reconnecting' }), 1);
    assert.equal(value(s, 'edge_camera_state', { camera: 'cam-3', state: 'running' }), 0);
    assert.equal(s.filter((x) => x.name === 'edge_camera_state' && x.labels.camera === 'cam-3').length, 5);
    // A source that restarted its own totals counts from zero again; the counter never goes down.
    metrics.observeCamera(status('cam-3', { framesCaptured: 5 }));
    assert.equal(value(await scrape(), 'edge_frames_captured_total', { camera: 'cam-3' }), 255);
  });

  it('exposes outbox depth, evictions, failures and sync lag', async () => {
    metrics.observeOutbox({ frames: 12, detections: 40, bytes: 9000, evictedFrames: 3, evictedDetections: 5 });
    metrics.observeEviction({ reason: 'bounds', frames: 3, detections: 5, bytes: 800, cameras: [] });
    metrics.observeEviction({ reason: 'manual', frames: 1, detections: 0, bytes: 100, cameras: [] });
    metrics.detectionFailed('cam-1', new Error('boom'));
    metrics.observeSyncLag(4.5);
    const s = await scrape();
    assert.equal(value(s, 'edge_outbox_frames'), 12);
    assert.equal(value(s, 'edge_outbox_detections'), 40);
    assert.equal(value(s, 'edge_outbox_bytes'), 9000);
    assert.equal(value(s, 'edge_outbox_evicted_frames_total'), 4);
    assert.equal(value(s, 'edge_outbox_evicted_detections_total'), 5);
    assert.equal(value(s, 'edge_detection_failures_total', { camera: 'cam-1' }), 1);
    assert.equal(value(s, 'edge_sync_lag_seconds'), 4.5);
  });

  it('includes default process metrics such as resident memory', async () => {
    const rss = value(await scrape(), 'process_resident_memory_bytes');
    assert.ok(rss !== undefined && rss > 0, `process_resident_memory_bytes = ${String(rss)}`);
  });

  it('keeps its own registry: two instances do not collide and the global registry stays empty', async () => {
    const other = new AgentMetrics({ defaultMetrics: false, clock: systemClock });
    other.frameProcessed('x', 'cpu', 'm', { preMs: 0, inferMs: 1, postMs: 0 }, 1);
    const body = await other.registry.metrics();
    assert.match(body, /edge_frames_processed_total\{camera="x"\} 1/);
    assert.doesNotMatch(body, /process_resident_memory_bytes/);
    const { register } = await import('prom-client');
    assert.equal((await register.metrics()).trim(), '');
  });

  it('serves /healthz as JSON, 200 while ok or degraded and 503 when failing', async () => {
    let res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(await res.json(), { status: 'ok', cameras: 2 });
    health = { status: 'degraded', cameras: { 'cam-1': 'reconnecting' } };
    res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), health);
    health = { status: 'failing', reason: 'all cameras failed' };
    res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), health);
  });

  it('answers unknown paths with 404 and other methods with 405', async () => {
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    const res = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
    const head = await fetch(`${base}/healthz?verbose=1`, { method: 'HEAD' });
    assert.equal(head.status, 503);
    assert.equal(await head.text(), '');
  });
});

describe('MetricsServer failures', () => {
  it('reports a port already in use as EDGE_ERR_METRICS_LISTEN', async () => {
    const registry = new AgentMetrics({ defaultMetrics: false, clock: systemClock }).registry;
    const first = new MetricsServer({ port: 0, registry, health: () => ({ status: 'ok' }) });
    await first.start();
    const { port } = first.address();
    try {
      const second = new MetricsServer({ port, registry, health: () => ({ status: 'ok' }) });
      await assert.rejects(second.start(), {
        code: 'EDGE_ERR_METRICS_LISTEN',
        message: new RegExp(`127\\.0\\.0\\.1:${port}: EADDRINUSE`),
      });
    } finally {
      await first.stop();
    }
  });

  it('answers 500 when collection throws and 503 when the health callback throws', async () => {
    const registry = new Registry();
    // A collect callback that throws makes the whole scrape fail, as a broken metric would.
    new Gauge({
      name: 'broken',
      help: 'throws on collect',
      registers: [registry],
      collect: () => {
        throw new Error('registry exploded');
      },
    });
    const server = new MetricsServer({
      port: 0,
      registry,
      health: () => {
        throw new Error('cannot read status');
      },
    });
    await server.start();
    const { port } = server.address();
    try {
      const m = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(m.status, 500);
      assert.match(await m.text(), /metrics collection failed: registry exploded/);
      const h = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(h.status, 503);
      assert.deepEqual(await h.json(), { status: 'failing', error: 'health check failed: cannot read status' });
    } finally {
      await server.stop();
    }
  });

  it('stops listening on stop(), even with a keep-alive connection open', async () => {
    const server = new MetricsServer({ port: 0, registry: new Registry(), health: () => ({ status: 'ok' }) });
    await server.start();
    const { port } = server.address();
    assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 200);
    await server.stop();
    await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`));
  });
});

describe('RateWindow', () => {
  it('is exact for a steady stream and bounded by its window', () => {
    const w = new RateWindow(5000, 20);
    assert.equal(w.rate(0), 0);
    // 30 fps for 20 s.
    for (let i = 0; i < 600; i++) w.add(100_000 + (i * 1000) / 30);
    const r = w.rate(120_000);
    assert.ok(Math.abs(r - 30) < 0.5, `rate ${r}`);
    assert.equal(w.rate(200_000), 0);
  });

  it('does not under-report a stream younger than the window', () => {
    const w = new RateWindow(5000, 20);
    for (let i = 0; i < 25; i++) w.add(1_000 + i * 40);
    assert.equal(w.rate(2_000), 25);
  });
});
