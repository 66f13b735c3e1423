process.env.UV_THREADPOOL_SIZE ??= '16';

import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { it } from 'node:test';
import { type CameraMetrics, decodeDeviceMetrics } from '@edgefleet/proto';
import { Agent } from '../src/agent/agent.js';
import { parseConfig } from '../src/config/load-config.js';
import { silentLogger } from '@edgefleet/service-kit';
import { sharedModel } from '@edgefleet/service-kit/testing';
import { waitFor, withTempDir } from './capture-fixtures.js';
import { AedesBroker, DEVICE, RawSubscriber, uniquePrefix } from './sync-harness.js';

it('the agent runs a synthetic camera through capture, the real YOLOv8n model and the outbox', async () => {
  await withTempDir(async (dir) => {
    const config = parseConfig({
      deviceId: 'synthetic-test',
      dataDir: join(dir, 'data'),
      model: { path: sharedModel('yolov8n_int8.onnx'), providers: ['cpu'] },
      cameras: [{ id: 'street', uri: 'synthetic://?schedule=day:2,fog:60~1&width=640&height=480', seed: 5, fps: 5 }],
      metrics: { enabled: false },
    });
    const agent = new Agent({ config, logger: silentLogger });
    await agent.start();
    try {
      const camera = () => agent.status().cameras.street!;
      // Detections on generated scenes are not asserted (COCO finds people and bicycles only sometimes): frames are.
      await waitFor('3 processed frames', () => camera().framesProcessed >= 3, 120_000);
      const status = camera();
      assert.equal(status.state, 'running');
      assert.equal(status.capture.state, 'running');
      assert.ok(agent.status().outbox.frames >= 3, `outbox holds ${agent.status().outbox.frames} frames`);
      const capture = status.capture as typeof status.capture & { domain?: string | null };
      assert.match(String(capture.domain), /^(day|day->fog \d+%|fog)$/);
      assert.equal(agent.health().status, 'ok');
    } finally {
      await agent.stop();
    }
    assert.equal(agent.status().cameras.street!.capture.state, 'stopped');
    // Every stored frame carries the image statistics the worker computed from its pixels.
    const db = new Database(join(dir, 'data', 'outbox.sqlite'), { readonly: true });
    try {
      const rows = db
        .prepare('SELECT brightness, contrast, sharpness, saturation, length(luma_grid) AS grid FROM frames')
        .all() as { brightness: number; contrast: number; sharpness: number; saturation: number; grid: number }[];
      assert.ok(rows.length >= 3, `${rows.length} frames`);
      for (const r of rows) {
        assert.ok(r.brightness > 0.05 && r.brightness < 0.95, `brightness ${r.brightness}`);
        assert.ok(r.contrast > 0 && r.sharpness > 0 && r.saturation > 0, JSON.stringify(r));
        assert.equal(r.grid, 16 * 4, 'a 4×4 grid of float32');
      }
    } finally {
      db.close();
    }
  });
});

it("a running agent's metrics carry per-camera fps, inference percentiles, stage times, brightness and contrast", async () => {
  const broker = await AedesBroker.start();
  const prefix = uniquePrefix();
  const sub = await RawSubscriber.connect(broker.url, prefix);
  try {
    await withTempDir(async (dir) => {
      const config = parseConfig({
        deviceId: DEVICE,
        dataDir: join(dir, 'data'),
        model: { path: sharedModel('yolov8n_int8.onnx'), providers: ['cpu'] },
        cameras: [{ id: 'street', uri: 'synthetic://?schedule=day:60&width=640&height=480', seed: 5, fps: 5 }],
        metrics: { enabled: false },
        sync: { url: broker.url, topicPrefix: prefix, metricsIntervalMs: 200 },
      });
      const agent = new Agent({ config, logger: silentLogger });
      await agent.start();
      try {
        const street = (): CameraMetrics | undefined => {
          const last = sub.metrics.at(-1);
          return last
            ? decodeDeviceMetrics(last, { deviceId: DEVICE }).cameras.find((c) => c.cameraId === 'street')
            : undefined;
        };
        await waitFor('metrics of a camera that has processed frames', () => (street()?.fps ?? 0) > 0, 120_000);
        const m = street()!;
        assert.ok(m.inferenceMsP50 > 0, `inference p50 ${m.inferenceMsP50}`);
        assert.ok(m.inferenceMsP95 >= m.inferenceMsP50, `p95 ${m.inferenceMsP95} >= p50 ${m.inferenceMsP50}`);
        assert.ok(m.preMsP50 > 0, `pre p50 ${m.preMsP50}`);
        assert.ok(m.postMsP50 > 0, `post p50 ${m.postMsP50}`);
        // A generated daylight street scene is neither black nor flat.
        assert.ok(m.brightnessMean > 0.05 && m.brightnessMean < 0.95, `brightness ${m.brightnessMean}`);
        assert.ok(m.contrastMean > 0.01, `contrast ${m.contrastMean}`);
        // The sync worker's observer hooks reach the agent's Prometheus metrics.
        const registry = agent.metricsRegistry!;
        assert.match(await registry.getSingleMetricAsString('edge_sync_connected'), /^edge_sync_connected 1$/m);
        await waitFor('an acknowledged batch', () => agent.status().sync!.ackedBatches > 0, 30_000);
        assert.match(await registry.getSingleMetricAsString('edge_sync_ack_round_trip_ms'), /_count [1-9]/);
      } finally {
        await agent.stop();
      }
    });
  } finally {
    await sub.close();
    await broker.kill();
  }
});
