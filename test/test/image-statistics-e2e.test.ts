/**
 * Image statistics end to end: a real agent (CLI child process, real ONNX Runtime) on two `synthetic://`
 * cameras showing the same street (same seed), one by day and one by night → MQTT (embedded broker) →
 * ingest → PostgreSQL and PGlite. The frames in the database carry statistics in their ranges, and the
 * night camera's are darker than the day camera's.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { FrameRow } from '@edgefleet/control-plane/testing';
import { shared, tempDir } from '../support/fixtures.js';
import {
  AgentProcess,
  FleetControlPlane,
  STORE_KINDS,
  TestDatabase,
  freePort,
  waitFor,
  writeAgentConfig,
} from '../support/fleet-harness.js';

/** Frames of each camera to wait for in the database. */
const FRAMES = 4;

function assertInRange(f: FrameRow): void {
  const s = f.imageStats;
  assert.ok(s, `frame ${f.cameraId}/${f.frameSeq} carries image statistics`);
  for (const [name, v] of Object.entries({ brightness: s.brightness, contrast: s.contrast, saturation: s.saturation }))
    assert.ok(Number.isFinite(v) && v >= 0 && v <= 1, `${f.cameraId}/${f.frameSeq} ${name} ${v}`);
  assert.ok(s.sharpness > 0 && s.sharpness <= 16, `${f.cameraId}/${f.frameSeq} sharpness ${s.sharpness}`);
  assert.equal(s.lumaGrid.length, 16);
  for (const v of s.lumaGrid) assert.ok(v >= 0 && v <= 1, `${f.cameraId}/${f.frameSeq} grid cell ${v}`);
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

for (const kind of STORE_KINDS) {
  describe(`image statistics from a synthetic camera to the database (${kind})`, () => {
    test('every stored frame carries statistics in range, and night is darker than day', async (t) => {
      const tmp = tempDir(`image-stats-${kind}`);
      const db = await TestDatabase.create(kind, tmp.path);
      const cp = new FleetControlPlane(db, join(tmp.path, 'cp'), await freePort());
      t.after(async () => {
        await cp.stop();
        await db.drop();
        tmp.cleanup();
      });
      await cp.start();
      const deviceId = 'box-stats';
      const scene = (domain: string) => `synthetic://?schedule=${domain}:600&width=320&height=240`;
      const agent = new AgentProcess(
        writeAgentConfig(
          {
            dir: tmp.path,
            deviceId,
            mqttPort: cp.mqttPort,
            credentials: await cp.enrol(deviceId),
            model: shared('models/yolov8n_int8.onnx'),
            cameras: [
              { id: 'day', uri: scene('day'), seed: 3, fps: 2 },
              { id: 'night', uri: scene('night'), seed: 3, fps: 2 },
            ],
          },
          'agent',
        ),
      );
      try {
        const stored = async (camera: string) => cp.store!.recentFrames(deviceId, camera, 100);
        await waitFor(
          `${FRAMES} frames of each camera in the database`,
          async () => (await stored('day')).length >= FRAMES && (await stored('night')).length >= FRAMES,
          120_000,
        );
      } finally {
        assert.equal(await agent.term(), 0, agent.log());
      }
      const day = await cp.store!.recentFrames(deviceId, 'day', 100);
      const night = await cp.store!.recentFrames(deviceId, 'night', 100);
      for (const f of [...day, ...night]) assertInRange(f);
      const brightness = (frames: FrameRow[]) => mean(frames.map((f) => f.imageStats!.brightness));
      // The night domain scales ambient light by 0.16: measured about 0.07 against 0.49 by day at this seed.
      assert.ok(
        brightness(night) < brightness(day) / 2,
        `night brightness ${brightness(night)} below half of day's ${brightness(day)}`,
      );
    });
  });
}
