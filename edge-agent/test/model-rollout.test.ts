import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { identityImageModel } from '@edgefleet/vision/testing/onnx-builder';
import { setOnnxRuntimeLogLevel } from '@edgefleet/vision';
import type { ModelStatusReport } from '@edgefleet/proto';
import { RolloutRig, tinyDetector } from './rollout-harness.js';
import { waitUntil } from './control-plane-fixture.js';

setOnnxRuntimeLogLevel('fatal');

const states = (reports: readonly ModelStatusReport[]) => reports.map((r) => r.state).filter((s, i, a) => s !== 'downloading' || a[i - 1] !== 'downloading');

describe('model rollout: assignment to active', () => {
  let rig: RolloutRig;
  before(async () => {
    rig = await RolloutRig.start();
  });
  after(() => rig.stop());

  it('downloads, verifies, warms up and activates an assigned model; detections carry its version', async () => {
    const seq = await rig.imageSequence('seq-activate', 20);
    const config = rig.config({
      modelPath: rig.writeModel('base.onnx', tinyDetector('base')),
      cameras: [{ id: 'cam1', uri: `dir://${seq}`, loop: true, realtime: true, fps: 30 }],
    });
    const agent = await rig.startAgent(config);
    await waitUntil(() => rig.cp.watches.length > 0, 'the agent watching its assignments');
    assert.deepEqual(rig.cp.watches[0]!.cameras, [{ cameraId: 'cam1', source: `dir://${seq}` }]);
    assert.equal(rig.cp.watches[0]!.knownRevision, 0);

    const m1 = rig.cp.publish(tinyDetector('m1'), { modelId: 'det', version: '1' });
    const revision = rig.cp.assign({ cameraId: 'cam1', primary: m1 });
    const active = await rig.cp.waitForReport((r) => r.sha256 === m1.sha256 && r.state === 'active', 'm1 active');
    assert.deepEqual(states(rig.cp.reportsFor(m1.sha256)), ['received', 'downloading', 'verifying', 'warming', 'active']);
    assert.equal(active.revision, revision);
    assert.equal(active.arm, 'primary');
    assert.equal(active.modelId, 'det');
    const downloading = rig.cp.reportsFor(m1.sha256).filter((r) => r.state === 'downloading');
    assert.equal(downloading.at(-1)!.bytesDone, m1.sizeBytes);

    const camera = () => agent.status().cameras['cam1']!;
    assert.equal(camera().models?.primary.version, '1', 'the swap is visible in status at once');
    assert.equal(camera().modelVersion, '1');
    const outbox = rig.outbox();
    try {
      await waitUntil(() => outbox.frames('cam1').some((f) => f.model_version === '1' && f.detection_count > 0), 'frames of version 1');
      const frames = outbox.frames('cam1');
      const first = frames.findIndex((f) => f.model_version === '1');
      assert.ok(frames.slice(0, first).every((f) => f.model_version === 'b0'), 'before: the baseline');
      assert.ok(frames.slice(first).every((f) => f.model_version === '1' && f.model_id === 'det' && f.arm === 'primary'), 'after: version 1 only, no frame back on the baseline');
      assert.ok(outbox.detections('cam1').filter((d) => d.frame_seq >= frames[first]!.frame_seq).every((d) => d.model_version === '1' && d.arm === 'primary'));
    } finally {
      outbox.close();
    }
    assert.equal(agent.status().models['cam1']?.revision, revision);
    await agent.stop();
  });
});
