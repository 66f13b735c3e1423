import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setOnnxRuntimeLogLevel } from '@edgefleet/vision';
import type { ModelDescriptor } from '@edgefleet/proto';
import type { AssignmentInput } from './control-plane-fixture.js';
import { counter, RolloutRig, tinyDetector } from './rollout-harness.js';

setOnnxRuntimeLogLevel('fatal');

const PRIMARY_BOX = { cx: 20, cy: 20, w: 10, h: 10, scores: [0.9, 0] };
const CANDIDATE_BOX = { cx: 40, cy: 30, w: 12, h: 8, scores: [0, 0.8] };

describe('model rollout: per-camera A/B', () => {
  let rig: RolloutRig;
  let primary: ModelDescriptor;
  let candidate: ModelDescriptor;
  let baseline: string;
  before(async () => {
    rig = await RolloutRig.start();
    baseline = rig.writeModel('base.onnx', tinyDetector('base'));
    primary = rig.cp.publish(tinyDetector('p', { anchors: [PRIMARY_BOX] }), { modelId: 'det', version: 'p1' });
    candidate = rig.cp.publish(tinyDetector('c', { anchors: [CANDIDATE_BOX] }), { modelId: 'det', version: 'c1' });
  });
  after(() => rig.stop());

  /**
   * Phase 1 activates the assignment on a short live-paced camera and stops; phase 2 boots on the persisted
   * models and runs a finite, non-realtime sequence (no frame dropped), so every frame of it is accounted for.
   */
  async function runAssigned(
    camera: string,
    assignment: Omit<AssignmentInput, 'cameraId' | 'primary'>,
    frames: number,
  ) {
    const dataDir = `${rig.dir}/data-${camera}`;
    const warm = await rig.imageSequence(`${camera}-warm`, 10);
    const first = await rig.startAgent(
      rig.config({
        modelPath: baseline,
        dataDir,
        cameras: [{ id: camera, uri: `dir://${warm}`, loop: true, realtime: true, fps: 20 }],
      }),
    );
    rig.cp.assign({ cameraId: camera, primary, ...assignment });
    await rig.cp.waitForReport(
      (r) => r.cameraId === camera && r.sha256 === candidate.sha256 && r.state === 'active',
      `${camera}: candidate active`,
    );
    await first.stop();
    const before = rig.outbox(dataDir);
    const lastSeq = before.frames(camera).at(-1)?.frame_seq ?? 0;
    before.close();

    const seq = await rig.imageSequence(`${camera}-run`, frames);
    const agent = await rig.startAgent(
      rig.config({ modelPath: baseline, dataDir, cameras: [{ id: camera, uri: `dir://${seq}` }] }),
    );
    await agent.idle();
    const status = agent.status().cameras[camera]!;
    const counts = {
      primary: await counter(agent, 'edge_inferences_total', { camera, model: 'det', version: 'p1', arm: 'primary' }),
      candidate: await counter(agent, 'edge_inferences_total', {
        camera,
        model: 'det',
        version: 'c1',
        arm: 'candidate',
      }),
      shadow: await counter(agent, 'edge_inferences_total', { camera, model: 'det', version: 'c1', arm: 'shadow' }),
    };
    await agent.stop();
    const outbox = rig.outbox(dataDir);
    const rows = outbox.frames(camera).filter((f) => f.frame_seq > lastSeq);
    const detections = outbox.detections(camera).filter((d) => d.frame_seq > lastSeq);
    outbox.close();
    // Every frame of the sequence, once, in order, gapless.
    assert.equal(rows.length, frames, 'one outbox frame per source frame');
    assert.deepEqual(
      rows.map((f) => f.frame_seq),
      rows.map((_, i) => lastSeq + 1 + i),
    );
    assert.equal(status.capture.framesDropped, 0);
    return { rows, detections, status, counts };
  }

  it('sends 10 % of 2,400 frames to the candidate, within ±2 points, each frame tagged with its arm and version', async () => {
    const { rows, detections, status, counts } = await runAssigned(
      'split-cam',
      { candidate, candidateMode: 'split', splitBasisPoints: 1000 },
      2400,
    );
    const onCandidate = rows.filter((f) => f.arm === 'candidate');
    const share = onCandidate.length / rows.length;
    assert.ok(Math.abs(share - 0.1) <= 0.02, `candidate share ${(share * 100).toFixed(2)} %`);
    assert.ok(onCandidate.every((f) => f.model_version === 'c1'));
    assert.ok(rows.filter((f) => f.arm === 'primary').every((f) => f.model_version === 'p1'));
    assert.ok(
      detections.every((d) =>
        d.arm === 'candidate' ? d.model_version === 'c1' : d.arm === 'primary' && d.model_version === 'p1',
      ),
    );
    assert.deepEqual(status.arms, {
      primary: rows.length - onCandidate.length,
      candidate: onCandidate.length,
      shadow: 0,
    });
    assert.deepEqual(counts, { primary: rows.length - onCandidate.length, candidate: onCandidate.length, shadow: 0 });
    assert.equal(status.models?.candidate?.mode, 'split');
    assert.equal(status.models?.candidate?.splitBasisPoints, 1000);
  });

  it('runs a shadow candidate on every frame beside the primary: inferences double, frames do not', async () => {
    const frames = 400;
    const { rows, detections, status, counts } = await runAssigned(
      'shadow-cam',
      { candidate, candidateMode: 'shadow' },
      frames,
    );
    assert.ok(
      rows.every((f) => f.arm === 'primary' && f.model_version === 'p1' && f.detection_count === 2),
      "the frame is the primary's and carries both models' detections",
    );
    assert.equal(detections.filter((d) => d.arm === 'shadow' && d.model_version === 'c1').length, frames);
    assert.equal(detections.filter((d) => d.arm === 'primary' && d.model_version === 'p1').length, frames);
    assert.deepEqual(counts, { primary: frames, candidate: 0, shadow: frames }, 'two inferences per frame');
    assert.equal(status.framesProcessed, frames, 'one frame per frame');
    assert.deepEqual(status.arms, { primary: frames, candidate: 0, shadow: frames });
  });
});
