/**
 * ModelManager.ready(camera) as the agent's composition root uses it: asked while the root builds its camera
 * workers, before anything starts, it settles once start boots the camera.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger, systemClock } from '@edgefleet/service-kit';
import { tempDir } from '@edgefleet/service-kit/testing';
import { setOnnxRuntimeLogLevel } from '@edgefleet/vision';
import { parseConfig } from '../src/config/load-config.js';
import { DetectorPool } from '../src/models/detector-pool.js';
import { ModelManager } from '../src/models/model-manager.js';
import { tinyDetector } from './rollout-harness.js';

setOnnxRuntimeLogLevel('fatal');

function manager(dir: string): { manager: ModelManager; pool: DetectorPool } {
  const modelPath = join(dir, 'base.onnx');
  writeFileSync(modelPath, tinyDetector('base'));
  const config = parseConfig({
    deviceId: 'box',
    dataDir: dir,
    model: { path: modelPath },
    cameras: [{ id: 'cam1', uri: 'testsrc://' }],
  });
  const pool = new DetectorPool(silentLogger);
  const m = new ModelManager({
    deviceId: 'box',
    cameras: config.cameras,
    model: config.model,
    pool,
    logger: silentLogger,
    control: null,
    clock: systemClock,
  });
  return { manager: m, pool };
}

test('ready() asked before start is one promise per camera and settles with the booted models after start', async (t) => {
  const { manager: m, pool } = manager(tempDir(t));
  t.after(async () => {
    await m.stop();
    await pool.close();
  });
  const early = m.ready('cam1');
  assert.equal(m.ready('cam1'), early, 'a second early ask gets the same promise');
  let settled = false;
  void early.then(() => {
    settled = true;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(settled, false, 'nothing boots before start');
  await m.start(new AbortController().signal);
  const models = await early;
  assert.equal(models.current().primary.identity.baseline, true, 'booted on the configured model');
  assert.equal(await m.ready('cam1'), models, 'after start, ready() answers the booted models');
});

test('ready() for a camera the manager was not given throws at once', (t) => {
  const { manager: m } = manager(tempDir(t));
  assert.throws(() => m.ready('nope'), /camera nope is not managed/);
});
