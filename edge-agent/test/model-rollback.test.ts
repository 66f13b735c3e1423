import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RollbackPolicy, ZERO_ROLLBACK_POLICY } from '@edgefleet/proto';
import { setOnnxRuntimeLogLevel } from '@edgefleet/vision';
import { MAX_AUTO_REPLICAS } from '@edgefleet/vision/testing';
import { runtimeFailingDetector } from '@edgefleet/vision/testing/onnx-builder';
import { sharedModel } from '@edgefleet/service-kit/testing';
import { waitUntil } from './control-plane-fixture.js';
import { counter, metric, RolloutRig, tinyDetector } from './rollout-harness.js';

/**
 * A camera keeps one frame more in flight than its model has sessions (`sessions: auto`: at most
 * MAX_AUTO_REPLICAS on a CPU), so frames already handed to a model when its rollback is decided still run
 * and count: a window's worth of runs is the floor, and these in-flight frames are all it may add.
 */
const IN_FLIGHT_MAX = MAX_AUTO_REPLICAS + 1;

function assertWindowCount(actual: number, window: number, what: string): void {
  assert.ok(
    actual >= window && actual <= window + IN_FLIGHT_MAX,
    `${what}: ${actual}, expected the ${window} of the window plus at most ${IN_FLIGHT_MAX} frames in flight`,
  );
}

setOnnxRuntimeLogLevel('fatal');

/** A rollback policy with only the given triggers set; every other field is zero (the agent's default). */
function rollbackPolicy(triggers: Partial<RollbackPolicy>): RollbackPolicy {
  return { ...ZERO_ROLLBACK_POLICY, ...triggers };
}

/**
 * The frames are GStreamer's test pattern (a white ball on black): the runtime-failing detector passes its
 * warm-up on a grey frame and fails on every one of them ("indices element out of data bounds").
 */
describe('automatic rollback', () => {
  let rig: RolloutRig;
  let baseline: string;
  before(async () => {
    rig = await RolloutRig.start();
    baseline = rig.writeModel('base.onnx', tinyDetector('base'));
  });
  after(() => rig.stop());

  it('rolls a primary that fails at run time back to the previous primary, which takes every frame the failing one could not: none is lost', async () => {
    const seq = await rig.imageSequence('seq-primary', 20);
    const dataDir = join(rig.dir, 'data-primary');
    const agent = await rig.startAgent(
      rig.config({
        modelPath: baseline,
        dataDir,
        cameras: [{ id: 'cam1', uri: `dir://${seq}`, loop: true, realtime: true, fps: 30 }],
      }),
    );
    const good = rig.cp.publish(tinyDetector('good'), { modelId: 'det', version: 'good' });
    rig.cp.assign({ cameraId: 'cam1', primary: good });
    await rig.cp.waitForReport((r) => r.sha256 === good.sha256 && r.state === 'active', 'good active');

    const bad = rig.cp.publish(runtimeFailingDetector({ metadata: [['tag', 'bad-primary']] }), {
      modelId: 'det',
      version: 'bad',
    });
    const policy = rollbackPolicy({ maxErrorRate: 0.2, errorWindowFrames: 10 });
    rig.cp.assign({ cameraId: 'cam1', primary: bad, policy });
    await rig.cp.waitForReport(
      (r) => r.sha256 === bad.sha256 && r.state === 'active',
      'bad model passes its warm-up and goes live',
    );
    const rolledBack = await rig.cp.waitForReport(
      (r) => r.sha256 === bad.sha256 && r.state === 'rolled_back',
      'automatic rollback',
    );
    assert.equal(rolledBack.arm, 'primary');
    assert.equal(rolledBack.rolledBackTo, good.sha256);
    assert.match(
      rolledBack.reason,
      /^inference errors: 3 of the last 10 frames, above the 0\.2 error rate \(last: .*indices element out of data bounds/,
    );
    assert.equal(agent.status().cameras.cam1!.models?.primary.version, 'good', 'the previous primary serves again');
    assert.equal(await metric(agent, 'edge_model_rollbacks_total', { camera: 'cam1', reason: 'error_rate' }), 1);
    assertWindowCount(
      await metric(agent, 'edge_inference_errors_total', {
        camera: 'cam1',
        model: 'det',
        version: 'bad',
        arm: 'primary',
      }),
      3,
      'inference errors of the failing primary',
    );
    // On probation the replaced primary stays loaded: it ran each frame the new one failed on.
    assert.equal(await counter(agent, 'edge_detection_failures_total', { camera: 'cam1' }), 0, 'no frame failed');

    await agent.stop();
    const status = agent.status().cameras.cam1!;
    assert.equal(
      status.framesProcessed + status.capture.framesDropped,
      status.capture.framesCaptured,
      'every captured frame was processed or dropped by the latest-frame policy',
    );
    const outbox = rig.outbox(dataDir);
    try {
      const frames = outbox.frames('cam1');
      assert.equal(frames.length, status.framesProcessed);
      assert.deepEqual(
        frames.map((f) => f.frame_seq),
        frames.map((_, i) => i + 1),
        'gapless',
      );
      assert.ok(!frames.some((f) => f.model_version === 'bad'), 'the failing model stored no frame');
      assert.equal(frames.at(-1)?.model_version, 'good');
    } finally {
      outbox.close();
    }
  });

  it('removes a split candidate that fails at run time; its frames go to the primary, none is lost', async () => {
    // A looping source: with frames in flight the agent gets through a finite sequence of tiny pictures
    // before the assignment has landed, and a candidate that never sees a frame never rolls back.
    const seq = await rig.imageSequence('seq-candidate', 600);
    const dataDir = join(rig.dir, 'data-candidate');
    const agent = await rig.startAgent(
      rig.config({ modelPath: baseline, dataDir, cameras: [{ id: 'cam2', uri: `dir://${seq}`, loop: true }] }),
    );
    const primary = rig.cp.publish(tinyDetector('cand-primary'), { modelId: 'det', version: 'p' });
    const bad = rig.cp.publish(runtimeFailingDetector({ metadata: [['tag', 'bad-candidate']] }), {
      modelId: 'det',
      version: 'bad-c',
    });
    const policy = rollbackPolicy({ maxErrorRate: 0.2, errorWindowFrames: 10 });
    rig.cp.assign({
      cameraId: 'cam2',
      primary,
      candidate: bad,
      candidateMode: 'split',
      splitBasisPoints: 5000,
      policy,
    });
    const rolledBack = await rig.cp.waitForReport(
      (r) => r.sha256 === bad.sha256 && r.state === 'rolled_back',
      'candidate rolled back',
    );
    assert.equal(rolledBack.arm, 'candidate');
    assert.equal(rolledBack.rolledBackTo, primary.sha256);
    assert.match(rolledBack.reason, /^inference errors: 3 of the last 10 frames/);
    // The primary keeps serving after the rollback.
    const after = agent.status().cameras.cam2!.framesProcessed;
    await waitUntil(() => agent.status().cameras.cam2!.framesProcessed >= after + 50, 'frames after the rollback');
    const status = agent.status().cameras.cam2!;
    assert.equal(status.models?.candidate, null);
    await agent.stop();
    const outbox = rig.outbox(dataDir);
    const frames = outbox.frames('cam2');
    outbox.close();
    assert.equal(frames.length, agent.status().cameras.cam2!.framesProcessed);
    assert.deepEqual(
      frames.map((f) => f.frame_id),
      frames.map((_, i) => i),
      "every frame the source delivered is stored, the candidate's failures included",
    );
    assert.ok(!frames.some((f) => f.model_version === 'bad-c'));
  });

  // Deterministic on any machine: the shadow is held to a 1 µs p95 budget, which no inference of yolov8n
  // (640×640, on the CPU) can meet, while the primary is held to a budget of a minute, which the tiny
  // detector cannot miss. The two budgets come from two assignments: a model keeps the policy it was
  // activated with, so the primary, unchanged by the second assignment, keeps the first one's.
  it('rolls back a shadow candidate whose p95 inference time breaks the latency budget (yolov8n against 1 µs), and keeps the primary that meets its own', async () => {
    const seq = await rig.imageSequence('seq-latency', 20);
    const dataDir = join(rig.dir, 'data-latency');
    const agent = await rig.startAgent(
      rig.config({
        modelPath: baseline,
        dataDir,
        cameras: [{ id: 'cam3', uri: `dir://${seq}`, loop: true, realtime: true, fps: 30 }],
      }),
    );
    const primary = rig.cp.publish(tinyDetector('lat-primary'), { modelId: 'det', version: 'fast' });
    const latencyPolicy = (p95LatencyBudgetMs: number) =>
      rollbackPolicy({ p95LatencyBudgetMs, latencyWindowFrames: 20 });
    rig.cp.assign({ cameraId: 'cam3', primary, policy: latencyPolicy(60_000) });
    await rig.cp.waitForReport((r) => r.sha256 === primary.sha256 && r.state === 'active', 'primary active');
    const heavy = rig.cp.publish(readFileSync(sharedModel('yolov8n_int8.onnx')), {
      modelId: 'yolov8n',
      version: 'heavy',
    });
    rig.cp.assign({
      cameraId: 'cam3',
      primary,
      candidate: heavy,
      candidateMode: 'shadow',
      policy: latencyPolicy(0.001),
    });
    await rig.cp.waitForReport((r) => r.sha256 === heavy.sha256 && r.state === 'active', 'heavy shadow active', 60_000);
    const rolledBack = await rig.cp.waitForReport(
      (r) => r.sha256 === heavy.sha256 && r.state === 'rolled_back',
      'latency rollback',
      60_000,
    );
    assert.equal(rolledBack.arm, 'shadow');
    assert.equal(rolledBack.rolledBackTo, primary.sha256);
    assert.match(
      rolledBack.reason,
      /^latency: p95 inference time \d+\.\d ms over the last 20 frames, above the 0\.001 ms budget$/,
    );
    const status = agent.status().cameras.cam3!;
    assert.equal(status.models?.primary.version, 'fast', 'the primary, under its budget, stays');
    assert.ok(
      (await metric(agent, 'edge_inferences_total', {
        camera: 'cam3',
        model: 'det',
        version: 'fast',
        arm: 'primary',
      })) >= 20,
      'the primary ran a full latency window of its own',
    );
    assert.equal(status.models?.candidate, null);
    assert.equal(await metric(agent, 'edge_model_rollbacks_total', { camera: 'cam3', reason: 'latency' }), 1);
    assertWindowCount(
      await metric(agent, 'edge_inferences_total', {
        camera: 'cam3',
        model: 'yolov8n',
        version: 'heavy',
        arm: 'shadow',
      }),
      20,
      'runs of the shadow held to 1 µs',
    );
    await agent.stop();
  });
});
