process.env.UV_THREADPOOL_SIZE ??= '16';

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { it } from 'node:test';
import { type CameraMetrics, decodeDeviceMetrics } from '@edgefleet/proto';
import { Agent } from '../src/agent/agent.js';
import { parseConfig } from '../src/config/load-config.js';
import { silentLogger } from '../src/log/logger.js';
import { repoRoot, waitFor, withTempDir } from './capture-fixtures.js';
import { AedesBroker, DEVICE, RawSubscriber, uniquePrefix } from './sync-harness.js';

function sharedModel(name: string): string {
  const dir = resolve(repoRoot, '..', 'shared', 'models');
  if (!existsSync(dir)) throw new Error(`shared test data missing at ${dir}`);
  return join(dir, name);
}

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
      } finally {
        await agent.stop();
      }
    });
  } finally {
    await sub.close();
    await broker.kill();
  }
});
