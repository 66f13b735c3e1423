process.env.UV_THREADPOOL_SIZE ??= '16';

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { Agent } from '../src/agent/agent.js';
import { parseConfig } from '../src/config/load-config.js';
import { silentLogger } from '@edgefleet/service-kit';
import { sharedModel } from '@edgefleet/service-kit/testing';
import { waitFor, withTempDir } from './capture-fixtures.js';

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
  });
});
