import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from './control-plane-fixture.js';
import { DEVICE, RolloutRig, runAgent, tinyDetector } from './rollout-harness.js';

describe('crash loop after an activation', () => {
  let rig: RolloutRig;
  before(async () => {
    rig = await RolloutRig.start();
  });
  after(() => rig.stop());

  it('boots on the previous model once the agent restarted N times within T seconds of activating a model, and reports it', async () => {
    const baselineBytes = tinyDetector('crash-base');
    const baseline = rig.writeModel('base.onnx', baselineBytes);
    const seq = await rig.imageSequence('seq', 10);
    const config = join(rig.dir, 'agent.json');
    const dataDir = join(rig.dir, 'data');
    writeFileSync(
      config,
      JSON.stringify({
        deviceId: DEVICE,
        dataDir,
        model: { path: baseline, id: 'base', version: 'b0', providers: ['cpu'] },
        cameras: [{ id: 'cam', uri: `dir://${seq}`, loop: true, realtime: true, fps: 20 }],
        control: rig.cp.controlConfig(),
        metrics: { enabled: false },
        log: { level: 'info' },
      }),
    );
    const suspect = rig.cp.publish(tinyDetector('crash-suspect'), { modelId: 'det', version: 'suspect' });
    const policy = {
      maxErrorRate: 0,
      errorWindowFrames: 0,
      p95LatencyBudgetMs: 0,
      latencyWindowFrames: 0,
      crashLoopRestarts: 2,
      crashLoopWindowS: 600,
    };
    const revision = rig.cp.assign({ cameraId: 'cam', primary: suspect, policy });

    // Boot 0 activates the model; then it "crashes" (kill -9, no clean stop).
    const first = runAgent(config);
    await rig.cp.waitForReport((r) => r.sha256 === suspect.sha256 && r.state === 'active', 'suspect active');
    first.child.kill('SIGKILL');
    assert.equal((await first.exit).signal, 'SIGKILL');

    // Restart 1 of 2 within the window: still on the suspect model.
    const watches = rig.cp.watches.length;
    const second = runAgent(config);
    await waitUntil(() => rig.cp.watches.length > watches, 'restart 1 watching');
    assert.equal(rig.cp.watches.at(-1)!.knownRevision, revision);
    const warned = second.logs().find((l) => l.msg === 'restart soon after a model activation');
    assert.deepEqual([warned?.boots, warned?.of], [1, 2]);
    second.child.kill('SIGKILL');
    await second.exit;

    // Restart 2 of 2: the crash loop is recognised before anything loads.
    const third = runAgent(config);
    const report = await rig.cp.waitForReport(
      (r) => r.sha256 === suspect.sha256 && r.state === 'rolled_back',
      'crash-loop rollback reported',
    );
    assert.equal(report.reason, 'crash loop: 2 restarts within 600 s');
    assert.equal(report.arm, 'primary');
    assert.equal(
      report.rolledBackTo,
      createHash('sha256').update(readFileSync(baseline)).digest('hex'),
      'back on the configured model',
    );
    assert.ok(third.logs().some((l) => l.msg === 'model rolled back at boot' && l.reason === report.reason));
    third.child.kill('SIGTERM');
    assert.equal((await third.exit).code, 0);

    const outbox = rig.outbox(dataDir);
    try {
      const frames = outbox.frames('cam');
      assert.ok(
        frames.some((f) => f.model_version === 'suspect'),
        'the first boots ran the suspect',
      );
      assert.equal(frames.at(-1)?.model_version, 'b0', 'the last boot ran the previous model');
    } finally {
      outbox.close();
    }
    // The rolled-back revision is handled: the same snapshot does not bring the suspect back.
    assert.equal(rig.cp.reports.filter((r) => r.sha256 === suspect.sha256 && r.state === 'active').length, 1);
  });

  it('marks an activation that survives the crash-loop window stable, so later restarts no longer count against it', async () => {
    const seq = await rig.imageSequence('seq-stable', 10);
    const dataDir = join(rig.dir, 'data-stable');
    const agent = await rig.startAgent(
      rig.config({
        modelPath: rig.writeModel('base-s.onnx', tinyDetector('stable-base')),
        dataDir,
        cameras: [{ id: 'cam-s', uri: `dir://${seq}`, loop: true, realtime: true, fps: 20 }],
      }),
    );
    const m = rig.cp.publish(tinyDetector('stable'), { modelId: 'det', version: 'stable' });
    const policy = {
      maxErrorRate: 0,
      errorWindowFrames: 0,
      p95LatencyBudgetMs: 0,
      latencyWindowFrames: 0,
      crashLoopRestarts: 2,
      crashLoopWindowS: 1,
    };
    rig.cp.assign({ cameraId: 'cam-s', primary: m, policy });
    await rig.cp.waitForReport((r) => r.sha256 === m.sha256 && r.state === 'active', 'active');
    const activation = () => agent.status().models['cam-s']?.activation;
    assert.deepEqual([activation()?.arm, activation()?.sha256, activation()?.stable], ['primary', m.sha256, false]);
    await waitUntil(() => activation()?.stable === true, 'stable after 1 s');
    await agent.stop();
  });
});
