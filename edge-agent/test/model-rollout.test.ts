import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { identityImageModel } from '@edgefleet/vision/testing/onnx-builder';
import { setOnnxRuntimeLogLevel } from '@edgefleet/vision';
import type { ModelStatusReport } from '@edgefleet/proto';
import { metric, RolloutRig, tinyDetector } from './rollout-harness.js';
import { TestSigner, waitUntil } from './control-plane-fixture.js';

setOnnxRuntimeLogLevel('fatal');

const states = (reports: readonly ModelStatusReport[]) =>
  reports.map((r) => r.state).filter((s, i, a) => s !== 'downloading' || a[i - 1] !== 'downloading');

describe('model rollout on a running agent', () => {
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
    assert.deepEqual(states(rig.cp.reportsFor(m1.sha256)), [
      'received',
      'downloading',
      'verifying',
      'warming',
      'active',
    ]);
    assert.equal(active.revision, revision);
    assert.equal(active.arm, 'primary');
    assert.equal(active.modelId, 'det');
    const downloading = rig.cp.reportsFor(m1.sha256).filter((r) => r.state === 'downloading');
    assert.equal(downloading.at(-1)!.bytesDone, m1.sizeBytes);

    const camera = () => agent.status().cameras.cam1!;
    assert.equal(camera().models?.primary.version, '1', 'the swap is visible in status at once');
    assert.equal(camera().modelVersion, '1');
    assert.equal(
      camera().models?.fallback?.version,
      'b0',
      'on probation, the replaced model stays loaded as the fallback',
    );
    await waitUntil(
      () => camera().models?.fallback === null,
      'probation over after a full error window without a breach',
      30_000,
    );
    const outbox = rig.outbox();
    try {
      await waitUntil(
        () => outbox.frames('cam1').some((f) => f.model_version === '1' && f.detection_count > 0),
        'frames of version 1',
      );
      const frames = outbox.frames('cam1');
      const first = frames.findIndex((f) => f.model_version === '1');
      assert.ok(
        frames.slice(0, first).every((f) => f.model_version === 'b0'),
        'before: the baseline',
      );
      assert.ok(
        frames.slice(first).every((f) => f.model_version === '1' && f.model_id === 'det' && f.arm === 'primary'),
        'after: version 1 only, no frame back on the baseline',
      );
      assert.ok(
        outbox
          .detections('cam1')
          .filter((d) => d.frame_seq >= frames[first]!.frame_seq)
          .every((d) => d.model_version === '1' && d.arm === 'primary'),
      );
    } finally {
      outbox.close();
    }
    assert.equal(agent.status().models.cam1?.revision, revision);
    await agent.stop();
  });

  it('refuses tampered, truncated, unsigned, wrong-key and not-a-detector models with their reasons while the running model serves every frame', async () => {
    const seq = await rig.imageSequence('seq-refuse', 50);
    const dataDir = `${rig.dir}/data-refuse`;
    const config = rig.config({
      modelPath: rig.writeModel('base-r.onnx', tinyDetector('base-r')),
      dataDir,
      cameras: [{ id: 'cam2', uri: `dir://${seq}`, loop: true }],
    });
    const agent = await rig.startAgent(config);
    const good = rig.cp.publish(tinyDetector('good'), { modelId: 'det', version: 'good' });
    rig.cp.assign({ cameraId: 'cam2', primary: good });
    await rig.cp.waitForReport((r) => r.sha256 === good.sha256 && r.state === 'active', 'good model active');

    const tamperedBytes = tinyDetector('tampered');
    const tampered = rig.cp.publish(tamperedBytes, { modelId: 'det', version: 'tampered' });
    const evil = Uint8Array.from(tamperedBytes);
    evil[evil.length - 5] = evil[evil.length - 5]! ^ 0xff;
    rig.cp.serve(tampered.sha256, { bytes: evil });
    const truncatedBytes = tinyDetector('truncated');
    const truncated = rig.cp.publish(truncatedBytes, { modelId: 'det', version: 'truncated' });
    rig.cp.serve(truncated.sha256, { bytes: truncatedBytes.subarray(0, 100) });
    const unsigned = rig.cp.publish(tinyDetector('unsigned'), { modelId: 'det', version: 'unsigned', unsigned: true });
    const wrongKey = rig.cp.publish(tinyDetector('wrong-key'), {
      modelId: 'det',
      version: 'wrong-key',
      signer: new TestSigner(),
    });
    const notDetector = rig.cp.publish(identityImageModel(), { modelId: 'det', version: 'not-a-detector' });
    const cases = [
      [tampered, /^tampered: the file hashes to sha256 /],
      [truncated, new RegExp(`^truncated: 100 of ${truncated.sizeBytes} bytes$`)],
      [unsigned, /^unsigned: /],
      [wrongKey, /^wrong key: signed with key [0-9a-f]{16}, the pinned key is /],
      [notDetector, /VISION_ERR_MODEL_NOT_DETECTOR|not a supported detector/],
    ] as const;
    for (const [model, reason] of cases) {
      rig.cp.assign({ cameraId: 'cam2', primary: model });
      const failed = await rig.cp.waitForReport(
        (r) => r.sha256 === model.sha256 && r.state === 'failed',
        `${model.version} refused`,
      );
      assert.match(failed.reason, reason, model.version);
      assert.equal(
        agent.status().cameras.cam2!.models?.primary.version,
        'good',
        `${model.version}: the good model still serves`,
      );
    }
    assert.equal(
      await metric(agent, 'edge_model_status_reports_total', { camera: 'cam2', state: 'failed' }),
      cases.length,
    );
    await agent.stop();

    const status = agent.status().cameras.cam2!;
    const outbox = rig.outbox(dataDir);
    const frames = outbox.frames('cam2');
    outbox.close();
    assert.equal(status.capture.framesDropped, 0);
    assert.equal(frames.length, status.framesProcessed);
    assert.deepEqual(
      frames.map((f) => f.frame_id),
      frames.map((_, i) => i),
      'every captured frame is in the outbox, in order: none lost while models were refused',
    );
    assert.deepEqual(
      frames.map((f) => f.frame_seq),
      frames.map((_, i) => i + 1),
    );
    assert.deepEqual([...new Set(frames.map((f) => f.model_version))], ['b0', 'good']);
  });

  it('refuses a primary downgrade unless the assignment is a rollback, which then applies from disk', async () => {
    const seq = await rig.imageSequence('seq-downgrade', 20);
    const dataDir = `${rig.dir}/data-downgrade`;
    const agent = await rig.startAgent(
      rig.config({
        modelPath: rig.writeModel('base-d.onnx', tinyDetector('base-d')),
        dataDir,
        cameras: [{ id: 'cam3', uri: `dir://${seq}`, loop: true, realtime: true, fps: 30 }],
      }),
    );
    const v1 = rig.cp.publish(tinyDetector('v1'), { modelId: 'det', version: 'v1' });
    const v2 = rig.cp.publish(tinyDetector('v2'), { modelId: 'det', version: 'v2' });
    rig.cp.assign({ cameraId: 'cam3', primary: v1 });
    await rig.cp.waitForReport((r) => r.sha256 === v1.sha256 && r.state === 'active', 'v1 active');
    rig.cp.assign({ cameraId: 'cam3', primary: v2 });
    await rig.cp.waitForReport((r) => r.sha256 === v2.sha256 && r.state === 'active', 'v2 active');

    const down = rig.cp.assign({ cameraId: 'cam3', primary: v1 });
    const refused = await rig.cp.waitForReport((r) => r.revision === down && r.state === 'failed', 'downgrade refused');
    assert.match(
      refused.reason,
      new RegExp(
        `^downgrade refused: serial ${v1.serial} \\(det v1\\) is older than the running serial ${v2.serial} \\(det v2\\)`,
      ),
    );
    assert.equal(agent.status().cameras.cam3!.models?.primary.version, 'v2');

    const downloads = rig.cp.downloads.length;
    let active = false;
    const off = agent.models!.onReport((r) => {
      if (r.sha256 === v1.sha256 && r.state === 'active') active = true;
    });
    const back = rig.cp.assign({ cameraId: 'cam3', primary: v1, rollback: true, reason: 'operator rollback' });
    // Bounded by waitUntil's 30 s; how fast it applies is measured by `./dev bench` (bench:rollout), not here.
    await waitUntil(() => active, 'commanded rollback active');
    off();
    assert.equal(rig.cp.downloads.length, downloads, 'from disk, no download');
    assert.equal(agent.status().cameras.cam3!.models?.primary.version, 'v1');
    assert.equal(agent.status().models.cam3?.revision, back);
    assert.equal(await metric(agent, 'edge_model_rollbacks_total', { camera: 'cam3', reason: 'commanded' }), 1);
    await agent.stop();
  });

  it('boots on its persisted models while the control plane is down, then catches up without re-applying them', async () => {
    const warm = await rig.imageSequence('seq-persist-warm', 10);
    const dataDir = `${rig.dir}/data-persist`;
    const baseline = rig.writeModel('base-p.onnx', tinyDetector('base-p'));
    const p = rig.cp.publish(tinyDetector('persist-p'), { modelId: 'det', version: 'pp' });
    const c = rig.cp.publish(tinyDetector('persist-c'), { modelId: 'det', version: 'pc' });
    const first = await rig.startAgent(
      rig.config({
        modelPath: baseline,
        dataDir,
        cameras: [{ id: 'cam4', uri: `dir://${warm}`, loop: true, realtime: true, fps: 30 }],
      }),
    );
    const revision = rig.cp.assign({
      cameraId: 'cam4',
      primary: p,
      candidate: c,
      candidateMode: 'split',
      splitBasisPoints: 5000,
    });
    await rig.cp.waitForReport((r) => r.sha256 === c.sha256 && r.state === 'active', 'candidate active');
    await first.stop();

    await rig.cp.stop();
    const seq = await rig.imageSequence('seq-persist', 200);
    const reportsBefore = rig.cp.reports.length;
    const agent = await rig.startAgent(
      rig.config({ modelPath: baseline, dataDir, cameras: [{ id: 'cam4', uri: `dir://${seq}` }] }),
    );
    const models = agent.status().cameras.cam4!.models;
    assert.equal(models?.primary.version, 'pp');
    assert.equal(models?.candidate?.version, 'pc');
    assert.equal(models?.revision, revision);
    await agent.idle();
    const status = agent.status();
    assert.notEqual(status.control?.state, 'watching', 'the control plane is down');
    assert.equal(status.cameras.cam4!.framesProcessed, 200);
    assert.equal(status.cameras.cam4!.arms.primary + status.cameras.cam4!.arms.candidate, 200);
    assert.ok(status.cameras.cam4!.arms.candidate > 0 && status.cameras.cam4!.arms.primary > 0);

    const watchesBefore = rig.cp.watches.length;
    await rig.cp.restart();
    await waitUntil(() => agent.status().control?.state === 'watching', 'watching again');
    assert.equal(rig.cp.watches.at(-1)!.knownRevision, revision);
    assert.ok(rig.cp.watches.length > watchesBefore);
    // The snapshot repeats revision `revision`: nothing to download, nothing reported again.
    assert.deepEqual(rig.cp.reports.slice(reportsBefore), []);
    await agent.stop();
  });
});
