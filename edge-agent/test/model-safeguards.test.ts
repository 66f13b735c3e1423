import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ModelDescriptor } from '@edgefleet/proto';
import { setOnnxRuntimeLogLevel } from '@edgefleet/vision';
import { runtimeFailingDetector } from '@edgefleet/vision/testing/onnx-builder';
import { waitUntil } from './control-plane-fixture.js';
import { RolloutRig, states, tinyDetector } from './rollout-harness.js';

setOnnxRuntimeLogLevel('fatal');

/**
 * What the README promises about models the agent must not serve or must not lose, each on a running
 * agent with real (tiny) ONNX detectors: a warm-up failure, an oversized artifact, a model file altered on
 * disk after its download, and which versions pruning keeps.
 */

/** The files in an agent's model store, as `<sha256>.onnx` / `<sha256>.partial` names. */
const storeFiles = (dataDir: string) => readdirSync(join(dataDir, 'models')).sort();

describe('model safeguards on a running agent', () => {
  let rig: RolloutRig;
  let baseline: string;
  before(async () => {
    rig = await RolloutRig.start();
    baseline = rig.writeModel('base.onnx', tinyDetector('safeguards-base'));
  });
  after(() => rig.stop());

  /** An agent with one looping camera `cameraId` on its own data dir, with `good` active as its primary. */
  async function agentServing(cameraId: string, control: Record<string, unknown> = {}) {
    const seq = await rig.imageSequence(`seq-${cameraId}`, 30);
    const dataDir = join(rig.dir, `data-${cameraId}`);
    const config = rig.config({
      modelPath: baseline,
      dataDir,
      cameras: [{ id: cameraId, uri: `dir://${seq}`, loop: true, realtime: true, fps: 30 }],
      control,
    });
    const agent = await rig.startAgent(config);
    const good = rig.cp.publish(tinyDetector(`good-${cameraId}`), { modelId: 'det', version: 'good' });
    rig.cp.assign({ cameraId, primary: good });
    await rig.cp.waitForReport((r) => r.sha256 === good.sha256 && r.state === 'active', `good active on ${cameraId}`);
    const frames = () => agent.status().cameras[cameraId]!.framesProcessed;
    return { agent, config, dataDir, good, frames };
  }

  it('never activates a model that fails its warm-up: reports failed and keeps serving the running model', async () => {
    const { agent, dataDir, frames } = await agentServing('warm');
    // Fails on the warm-up's mid-grey frame: a table of 2 gathers out of bounds for any pixel of 51 or brighter.
    const failing = rig.cp.publish(runtimeFailingDetector({ tableSize: 2, metadata: [['tag', 'warm-fail']] }), {
      modelId: 'det',
      version: 'warm-fail',
    });
    rig.cp.assign({ cameraId: 'warm', primary: failing });
    const failed = await rig.cp.waitForReport(
      (r) => r.sha256 === failing.sha256 && r.state === 'failed',
      'warm-up failure reported',
    );
    assert.match(failed.reason, /^EDGE_ERR_MODEL_WARMUP: .*: run 1 of \d+: .*(out of data bounds|indices)/);
    assert.deepEqual(states(rig.cp.reportsFor(failing.sha256)), [
      'received',
      'downloading',
      'verifying',
      'warming',
      'failed',
    ]);
    const camera = agent.status().cameras.warm!;
    assert.equal(camera.models?.primary.version, 'good', 'the running model still serves');
    assert.equal(camera.models?.candidate, null);
    const before = frames();
    await waitUntil(() => frames() >= before + 15, 'frames after the refusal');
    await agent.stop();
    assert.ok(!rig.cp.reportsFor(failing.sha256).some((r) => r.state === 'active'), 'never reported active');
    const outbox = rig.outbox(dataDir);
    try {
      const versions = new Set(outbox.frames('warm').map((f) => f.model_version));
      assert.ok(!versions.has('warm-fail'), 'no frame ran on the model that failed its warm-up');
      assert.ok(versions.has('good'));
    } finally {
      outbox.close();
    }
  });

  it('refuses an artifact larger than its descriptor says while downloading it, and keeps no byte of it', async () => {
    const { agent, dataDir, frames } = await agentServing('big');
    const bytes = tinyDetector('oversized');
    const model = rig.cp.publish(bytes, { modelId: 'det', version: 'oversized' });
    const padded = new Uint8Array(bytes.length + 4096);
    padded.set(bytes);
    rig.cp.serve(model.sha256, { bytes: padded });
    rig.cp.assign({ cameraId: 'big', primary: model });
    const failed = await rig.cp.waitForReport(
      (r) => r.sha256 === model.sha256 && r.state === 'failed',
      'oversized artifact refused',
    );
    assert.equal(failed.reason, `oversized: more than the descriptor's ${model.sizeBytes} bytes`);
    assert.ok(!rig.cp.reportsFor(model.sha256).some((r) => r.state === 'verifying' || r.state === 'active'));
    assert.ok(
      !storeFiles(dataDir).some((f) => f.startsWith(model.sha256)),
      'neither the partial file nor an artifact of it is left in the store',
    );
    assert.equal(agent.status().cameras.big!.models?.primary.version, 'good', 'the running model still serves');
    const before = frames();
    await waitUntil(() => frames() >= before + 15, 'frames after the refusal');
  });

  it('refuses a model file altered on disk after its download (deletes it, boots on the configured model) and downloads it afresh when assigned again', async () => {
    const first = await agentServing('disk');
    const { dataDir, config, good } = first;
    await first.agent.stop();
    const stored = join(dataDir, 'models', `${good.sha256}.onnx`);
    // Another valid detector in its place: it loads, but its bytes are not the verified ones.
    writeFileSync(stored, tinyDetector('swapped-on-disk'));
    const downloadsBefore = rig.cp.downloads.filter((d) => d.sha256 === good.sha256).length;

    const agent = await rig.startAgent(config);
    const refused = await rig.cp.waitForReport(
      (r) => r.sha256 === good.sha256 && r.state === 'failed',
      'altered file refused at boot',
    );
    assert.match(
      refused.reason,
      new RegExp(`^cannot boot on it: .*tampered: the stored file hashes to [0-9a-f]{64}, not ${good.sha256}$`),
    );
    assert.ok(!storeFiles(dataDir).includes(`${good.sha256}.onnx`), 'the altered file is deleted');
    const camera = () => agent.status().cameras.disk!;
    assert.equal(camera().models?.primary.version, 'b0', 'the camera boots on the configured model');
    const frames = camera().framesProcessed;
    await waitUntil(() => camera().framesProcessed >= frames + 15, 'frames on the configured model');

    const revision = rig.cp.assign({ cameraId: 'disk', primary: good });
    const active = await rig.cp.waitForReport(
      (r) => r.sha256 === good.sha256 && r.state === 'active' && r.revision === revision,
      'downloaded afresh and active',
    );
    assert.equal(active.arm, 'primary');
    assert.ok(
      rig.cp.downloads.filter((d) => d.sha256 === good.sha256).length > downloadsBefore,
      'the artifact was downloaded again',
    );
    assert.equal(camera().models?.primary.version, 'good');
    assert.ok(storeFiles(dataDir).includes(`${good.sha256}.onnx`));
    await agent.stop();
  });

  it('prunes old versions but never the active primary, the previous primary (the rollback target) or the candidate', async () => {
    // keepVersions 1: every version the store still holds is there because the manager protects it.
    const { agent, dataDir, good } = await agentServing('prune', { keepVersions: 1 });
    const onnx = () => storeFiles(dataDir).filter((f) => f.endsWith('.onnx'));
    const names = (...ds: ModelDescriptor[]) => ds.map((d) => `${d.sha256}.onnx`).sort();
    assert.deepEqual(onnx(), names(good), 'the active primary (its previous one is the configured model)');

    const activate = async (version: string, extra: { candidate?: ModelDescriptor } = {}) => {
      const primary = rig.cp.publish(tinyDetector(`prune-${version}`), { modelId: 'det', version });
      const revision = rig.cp.assign({
        cameraId: 'prune',
        primary,
        ...(extra.candidate ? { candidate: extra.candidate, candidateMode: 'split', splitBasisPoints: 5000 } : {}),
      });
      await rig.cp.waitForReport(
        (r) => r.revision === revision && r.sha256 === primary.sha256 && r.state === 'active',
        `${version} active`,
      );
      return primary;
    };
    const v2 = await activate('v2');
    assert.deepEqual(onnx(), names(good, v2), 'active v2 and its previous primary');
    const v3 = await activate('v3');
    assert.deepEqual(onnx(), names(v2, v3), 'active v3 and its previous primary v2; the older one is deleted');

    const candidate = rig.cp.publish(tinyDetector('prune-candidate'), { modelId: 'det', version: 'c' });
    const revision = rig.cp.assign({
      cameraId: 'prune',
      primary: v3,
      candidate,
      candidateMode: 'split',
      splitBasisPoints: 5000,
    });
    await rig.cp.waitForReport(
      (r) => r.revision === revision && r.sha256 === candidate.sha256 && r.state === 'active',
      'candidate active',
    );
    assert.deepEqual(onnx(), names(v2, v3, candidate), 'the candidate joins the kept versions');
    const v4 = await activate('v4', { candidate });
    assert.deepEqual(
      onnx(),
      names(v3, v4, candidate),
      'a new primary: the one it replaced is kept, v2 (no longer anyone previous) goes, the candidate stays',
    );
    await agent.stop();
  });
});
