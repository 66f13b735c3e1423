/**
 * Model rollout end to end, through the real control plane (REST, registry on PostgreSQL, signing, gRPC)
 * and real edge agents (model manager, capture, outbox, MQTT sync): upload → assign → active with tagged
 * detections in the database; refused artifacts with no frame lost; A/B split and shadow measured in the
 * database; automatic rollback at run time and after a crash loop; a commanded rollback.
 */
process.env.UV_THREADPOOL_SIZE ??= '16';

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setOnnxRuntimeLogLevel } from '@edgefleet/vision';
import { constantDetector, identityImageModel, runtimeFailingDetector } from '@edgefleet/vision/testing/onnx-builder';
import { isCpError } from '@edgefleet/control-plane';
import { tempDir } from '../support/fixtures.js';
import { sleep, waitFor } from '../support/fleet-harness.js';
import {
  AgentChild,
  ballJpegs,
  FleetAgent,
  RolloutFleet,
  type Enrolled,
  type ModelRecord,
} from '../support/rollout-fleet.js';

// The run-time-failing model makes ONNX Runtime log every failed frame; the reports say it once.
setOnnxRuntimeLogLevel('fatal');

/** A tiny real detector (64×64 input, one constant box); `tag` makes its bytes and sha256 unique. */
function tiny(tag: string, score = 0.9): Uint8Array {
  return constantDetector({
    classNames: ['person', 'car'],
    anchors: [{ cx: 32, cy: 32, w: 16, h: 16, scores: [score, 0] }],
    metadata: [['tag', tag]],
  });
}

interface ArmRow {
  frame_seq: number;
  arm: string;
  model_version: string;
}

/** One camera's frames in the database, in sequence order. */
async function dbFrames(fleet: RolloutFleet, device: string, camera: string): Promise<ArmRow[]> {
  const rows = await fleet.rows<ArmRow>(
    'SELECT frame_seq::float8 AS frame_seq, arm, model_version FROM frames WHERE device_id = $1 AND camera_id = $2 ORDER BY frame_seq',
    [device, camera],
  );
  return rows.map((r) => ({ ...r, frame_seq: Number(r.frame_seq) }));
}

async function dbDetections(fleet: RolloutFleet, device: string, camera: string): Promise<ArmRow[]> {
  const rows = await fleet.rows<ArmRow>(
    'SELECT frame_seq::float8 AS frame_seq, arm, model_version FROM detections WHERE device_id = $1 AND camera_id = $2 ORDER BY seq',
    [device, camera],
  );
  return rows.map((r) => ({ ...r, frame_seq: Number(r.frame_seq) }));
}

/** `seqs` is non-empty and runs from `from` with no gap or duplicate. */
function assertGapless(seqs: readonly number[], expected: { from: number; what: string }): void {
  const { from, what } = expected;
  assert.ok(seqs.length > 0, `${what}: no frames`);
  assert.equal(seqs[0], from, `${what}: the sequence starts at ${from}`);
  for (const [i, s] of seqs.entries()) assert.equal(s, from + i, `${what}: gap or duplicate at position ${i} (${s})`);
}

/** Every frame the agent processed is in the database, once (the outbox drained over MQTT). */
async function waitForSync(fleet: RolloutFleet, device: string, camera: string, processed: number): Promise<void> {
  await waitFor(
    `${processed} frames of ${device}/${camera} in the database`,
    async () => (await fleet.store.countFrames({ deviceId: device, cameraId: camera })) >= processed,
    60_000,
  );
}

describe('model rollout through the control plane (PostgreSQL)', () => {
  const tmp = tempDir('rollout-fleet');
  let fleet: RolloutFleet;
  let box: Enrolled;
  let baseline: string;
  let images: string;
  let m1: ModelRecord;
  let m2: ModelRecord;

  before(async () => {
    fleet = await RolloutFleet.start('postgres', tmp.path);
    box = await fleet.enrol('fleet-box');
    baseline = join(tmp.path, 'baseline.onnx');
    writeFileSync(baseline, tiny('baseline', 0.6));
    images = ballJpegs(join(tmp.path, 'ball'), 40);
    m1 = await fleet.upload('det', '1', tiny('v1', 0.7));
    m2 = await fleet.upload('det', '2', tiny('v2', 0.8));
  });
  after(async () => {
    await fleet?.stop();
    tmp.cleanup();
  });

  it('an uploaded model assigned over REST goes active on the agent within seconds, and its detections reach the database tagged with its version', async (t) => {
    const agent = await FleetAgent.start(
      fleet.agentConfig({
        device: box,
        dataDir: join(tmp.path, 'agent-a'),
        baselineModel: baseline,
        cameras: [{ id: 'gate', uri: `dir://${images}`, loop: true, realtime: true, fps: 20 }],
      }),
    );
    try {
      await fleet.waitForCamera(box.deviceId, 'gate');
      const active = agent.nextReport(
        (r) => r.cameraId === 'gate' && r.sha256 === m1.sha256 && r.state === 'active',
        'det:1 active',
      );
      const t0 = performance.now();
      const assigned = await fleet.assign(box.deviceId, 'gate', { model: 'det:1' });
      assert.equal(assigned.primary.serial, m1.serial);
      await active;
      const seconds = (performance.now() - t0) / 1000;
      // The states the agent walked through, as the control plane stored them.
      await fleet.waitForStatus(
        box.deviceId,
        'gate',
        (s) => s.sha256 === m1.sha256 && s.state === 'active',
        'active stored by the control plane',
      );
      const states = (await fleet.statuses(box.deviceId, 'gate')).history
        .filter((s) => s.sha256 === m1.sha256)
        .map((s) => s.state)
        .reverse();
      for (const s of ['received', 'downloading', 'verifying', 'warming', 'active'])
        assert.ok(states.includes(s), `state ${s} reported (got ${states.join(' → ')})`);
      await waitFor('detections of det:1 in the database', async () => {
        const recent = await fleet.store.recentDetections(box.deviceId, 'gate', 5);
        return (
          recent.length > 0 && recent.every((d) => d.modelId === 'det' && d.modelVersion === '1' && d.arm === 'primary')
        );
      });
      t.diagnostic(`assign → active: ${seconds.toFixed(2)} s`);
      assert.ok(seconds < 30, `active after ${seconds.toFixed(2)} s`);
    } finally {
      await agent.stop();
    }
  });

  it('tampered and truncated artifacts and a model signed with another key are refused with their reasons while the camera loses no frame; a non-detector never gets past upload', async () => {
    const dataDir = join(tmp.path, 'agent-b');
    const agent = await FleetAgent.start(
      // Non-realtime loop: the source is pulled on demand, so nothing is dropped and every captured frame is accounted for.
      fleet.agentConfig({
        device: box,
        dataDir,
        baselineModel: baseline,
        cameras: [{ id: 'dock', uri: `dir://${images}`, loop: true, realtime: false }],
      }),
    );
    try {
      await fleet.waitForCamera(box.deviceId, 'dock');
      // The artifact files on the control plane's disk, damaged after upload (the registry signed the good bytes).
      const tampered = await fleet.upload('det', '3', tiny('v3'));
      const truncated = await fleet.upload('det', '4', tiny('v4'));
      const artifact = (sha: string): string => {
        const root = join(tmp.path, 'control-plane', 'artifacts', 'sha256', sha.slice(0, 2));
        return join(root, readdirSync(root).find((f) => f === sha)!);
      };
      const bytes = readFileSync(artifact(tampered.sha256));
      bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
      writeFileSync(artifact(tampered.sha256), bytes);
      truncateSync(artifact(truncated.sha256), Math.floor(statSync(artifact(truncated.sha256)).size / 2));

      for (const [model, kind] of [
        [tampered, 'tampered:'],
        [truncated, 'truncated:'],
      ] as const) {
        const refused = agent.nextReport(
          (r) => r.cameraId === 'dock' && r.sha256 === model.sha256 && r.state === 'failed',
          `${model.version} refused`,
        );
        await fleet.assign(box.deviceId, 'dock', { model: model.serial });
        const report = await refused;
        assert.ok(report.reason.startsWith(kind), `reason "${report.reason}" starts with ${kind}`);
        // The control plane put the camera back on what the device runs.
        await waitFor(`assignment of dock no longer ${model.version}`, async () => {
          try {
            return (await fleet.assignment(box.deviceId, 'dock')).primary.sha256 !== model.sha256;
          } catch (err) {
            return isCpError(err, 'CP_ERR_ASSIGNMENT_NOT_FOUND');
          }
        });
      }

      // Wrong shape and corrupt files: the registry refuses them at upload; no agent ever sees them.
      await assert.rejects(fleet.upload('junk', 'shape', identityImageModel()), (err) =>
        isCpError(err, 'CP_ERR_MODEL_NOT_DETECTOR'),
      );
      await assert.rejects(
        fleet.upload('junk', 'bytes', new Uint8Array(Buffer.from('not an onnx model at all'))),
        (err) => isCpError(err, 'CP_ERR_MODEL_CORRUPT'),
      );

      // The camera kept running on its baseline throughout: every processed frame is in the database, gapless.
      await sleep(300);
      const status = agent.agent.status().cameras.dock!;
      assert.equal(status.capture.framesDropped, 0, 'a pulled source drops nothing');
      assert.equal(status.modelVersion, 'local', 'still on the baseline');
      await agent.stop();
      const processed = agent.agent.status().cameras.dock!.framesProcessed;
      assert.equal(
        processed,
        agent.agent.status().cameras.dock!.capture.framesCaptured,
        'every captured frame was processed',
      );
      // A stop drains only the batches in flight; what the pulled source produced faster than sync sent
      // waits in the outbox. The same agent, started again on its data directory (and a slow camera),
      // sends it: store and forward, so every frame of the first run reaches the database.
      const again = await FleetAgent.start(
        fleet.agentConfig({
          device: box,
          dataDir,
          baselineModel: baseline,
          cameras: [{ id: 'dock', uri: `dir://${images}`, loop: true, realtime: true, fps: 1 }],
        }),
      );
      try {
        await waitForSync(fleet, box.deviceId, 'dock', processed);
      } finally {
        await again.stop();
      }
      const frames = (await dbFrames(fleet, box.deviceId, 'dock')).slice(0, processed);
      assert.equal(frames.length, processed);
      assertGapless(
        frames.map((f) => f.frame_seq),
        { from: 1, what: 'dock frames' },
      );
    } finally {
      await agent.stop();
    }

    // A device whose pinned key is not the control plane's refuses everything the registry signed.
    const other = await fleet.enrol('other-box');
    const strangerKey = generateKeyPairSync('ed25519')
      .publicKey.export({ format: 'der', type: 'spki' })
      .subarray(-32)
      .toString('base64');
    const stranger = await FleetAgent.start(
      fleet.agentConfig({
        device: other,
        dataDir: join(tmp.path, 'agent-other'),
        baselineModel: baseline,
        publicKey: strangerKey,
        cameras: [{ id: 'cam', uri: `dir://${images}`, loop: true, realtime: true, fps: 10 }],
      }),
    );
    try {
      await fleet.waitForCamera(other.deviceId, 'cam');
      const refused = stranger.nextReport(
        (r) => r.sha256 === m1.sha256 && r.state === 'failed',
        'det:1 refused by the stranger',
      );
      await fleet.assign(other.deviceId, 'cam', { model: 'det:1' });
      assert.match((await refused).reason, /^wrong key:/);
      const stored = await fleet.waitForStatus(
        other.deviceId,
        'cam',
        (s) => s.sha256 === m1.sha256 && s.state === 'failed',
        'failure stored',
      );
      assert.match(stored.reason, /^wrong key:/);
    } finally {
      await stranger.stop();
    }
  });

  it('a 10 % split measured in the database over 2,400 frames lands within ±2 points, and shadow mode doubles inferences but not frames', async (t) => {
    const dataDir = join(tmp.path, 'agent-ab');
    // Phase 1: live cameras take up the assignments.
    const warm = await FleetAgent.start(
      fleet.agentConfig({
        device: box,
        dataDir,
        baselineModel: baseline,
        cameras: [
          { id: 'split', uri: `dir://${images}`, loop: true, realtime: true, fps: 20 },
          { id: 'shadow', uri: `dir://${images}`, loop: true, realtime: true, fps: 20 },
        ],
      }),
    );
    try {
      await fleet.waitForCamera(box.deviceId, 'split');
      await fleet.waitForCamera(box.deviceId, 'shadow');
      const splitActive = warm.nextReport(
        (r) => r.cameraId === 'split' && r.arm === 'candidate' && r.state === 'active',
        'split candidate active',
      );
      const shadowActive = warm.nextReport(
        (r) => r.cameraId === 'shadow' && r.arm === 'shadow' && r.state === 'active',
        'shadow candidate active',
      );
      await fleet.assign(box.deviceId, 'split', { model: 'det:1', candidate: 'det:2', splitPercent: 10 });
      await fleet.assign(box.deviceId, 'shadow', { model: 'det:1', candidate: 'det:2', mode: 'shadow' });
      await Promise.all([splitActive, shadowActive]);
    } finally {
      await warm.stop();
    }
    // Frames of phase 1 (some may still sit in the outbox: phase 2's sync sends them).
    const phase1 = {
      split: warm.agent.status().cameras.split!.framesProcessed,
      shadow: warm.agent.status().cameras.shadow!.framesProcessed,
    };

    // Phase 2: the agent boots on its persisted models and runs finite, pulled sequences (nothing dropped).
    const splitFrames = 2400;
    const shadowFrames = 300;
    const splitDir = ballJpegs(join(tmp.path, 'split-seq'), splitFrames);
    const shadowDir = ballJpegs(join(tmp.path, 'shadow-seq'), shadowFrames);
    const run = await FleetAgent.start(
      fleet.agentConfig({
        device: box,
        dataDir,
        baselineModel: baseline,
        cameras: [
          { id: 'split', uri: `dir://${splitDir}` },
          { id: 'shadow', uri: `dir://${shadowDir}` },
        ],
      }),
    );
    let shadowArms: { primary: number; candidate: number; shadow: number };
    try {
      await run.agent.idle();
      shadowArms = run.agent.status().cameras.shadow!.arms as typeof shadowArms;
    } finally {
      await run.stop();
    }
    await waitForSync(fleet, box.deviceId, 'split', phase1.split + splitFrames);
    await waitForSync(fleet, box.deviceId, 'shadow', phase1.shadow + shadowFrames);

    // Both phases' frames, numbered from 1: phase 2 goes on from phase 1's last sequence number (kept in the
    // data directory).
    const allSplit = await dbFrames(fleet, box.deviceId, 'split');
    assertGapless(
      allSplit.map((f) => f.frame_seq),
      { from: 1, what: 'split frames' },
    );
    const split = allSplit.filter((f) => f.frame_seq > phase1.split);
    assert.equal(split.length, splitFrames, 'every frame of the sequence, once');
    const onCandidate = split.filter((f) => f.arm === 'candidate');
    const share = onCandidate.length / split.length;
    t.diagnostic(`candidate share ${(share * 100).toFixed(2)} % of ${split.length} frames`);
    assert.ok(
      Math.abs(share - 0.1) <= 0.02,
      `candidate share in the database ${(share * 100).toFixed(2)} % (target 10 ± 2)`,
    );
    assert.ok(
      onCandidate.every((f) => f.model_version === '2'),
      'candidate frames carry the candidate version',
    );
    assert.ok(
      split.filter((f) => f.arm === 'primary').every((f) => f.model_version === '1'),
      'primary frames carry the primary version',
    );

    const shadowDb = (await dbFrames(fleet, box.deviceId, 'shadow')).filter((f) => f.frame_seq > phase1.shadow);
    assert.equal(shadowDb.length, shadowFrames, 'one frame per source frame');
    assert.ok(
      shadowDb.every((f) => f.arm === 'primary' && f.model_version === '1'),
      "shadow frames are the primary's",
    );
    const firstShadowSeq = shadowDb[0]!.frame_seq;
    const detections = (await dbDetections(fleet, box.deviceId, 'shadow')).filter((d) => d.frame_seq >= firstShadowSeq);
    assert.equal(
      detections.filter((d) => d.arm === 'shadow' && d.model_version === '2').length,
      shadowFrames,
      "the shadow model's detections are stored on the same frames",
    );
    assert.equal(detections.filter((d) => d.arm === 'primary' && d.model_version === '1').length, shadowFrames);
    assert.deepEqual(
      shadowArms!,
      { primary: shadowFrames, candidate: 0, shadow: shadowFrames },
      'two inferences per frame',
    );
  });

  it('a model failing at run time rolls back by itself and the control plane records it; a commanded rollback brings the previous model back', async (t) => {
    const agent = await FleetAgent.start(
      fleet.agentConfig({
        device: box,
        dataDir: join(tmp.path, 'agent-c'),
        baselineModel: baseline,
        cameras: [{ id: 'yard', uri: `dir://${images}`, loop: true, realtime: true, fps: 20 }],
        rollback: { maxErrorRate: 0.2, errorWindowFrames: 20 },
      }),
    );
    try {
      await fleet.waitForCamera(box.deviceId, 'yard');
      let active = agent.nextReport(
        (r) => r.cameraId === 'yard' && r.sha256 === m1.sha256 && r.state === 'active',
        'det:1 active',
      );
      await fleet.assign(box.deviceId, 'yard', { model: 'det:1' });
      await active;

      // Runs on the grey warm-up frame, fails on the ball's bright pixels.
      const failing = await fleet.upload(
        'det',
        'fails-at-run-time',
        runtimeFailingDetector({ classNames: ['person', 'car'], metadata: [['tag', 'failing']] }),
      );
      const rolledBack = agent.nextReport(
        (r) => r.cameraId === 'yard' && r.sha256 === failing.sha256 && r.state === 'rolled_back',
        'failing model rolled back',
      );
      await fleet.assign(box.deviceId, 'yard', { model: failing.serial });
      const report = await rolledBack;
      assert.match(report.reason, /inference errors/);
      assert.equal(report.rolledBackTo, m1.sha256);
      await waitFor('control plane assignment back on det:1', async () => {
        const a = await fleet.assignment(box.deviceId, 'yard');
        return a.primary.sha256 === m1.sha256 && a.rollback && /auto-rollback/.test(a.reason);
      });
      assert.ok(
        (await fleet.audit(`camera:${box.deviceId}/yard`)).some((e) => e.action === 'assignment.auto-rollback'),
        'the rollback is in the audit log',
      );
      assert.equal(agent.agent.status().cameras.yard!.modelVersion, '1');

      // Commanded: det:2, then back to det:1 (kept on disk) on the admin's word.
      active = agent.nextReport(
        (r) => r.cameraId === 'yard' && r.sha256 === m2.sha256 && r.state === 'active',
        'det:2 active',
      );
      await fleet.assign(box.deviceId, 'yard', { model: 'det:2' });
      await active;
      const back = agent.nextReport(
        (r) => r.cameraId === 'yard' && r.sha256 === m1.sha256 && r.state === 'active',
        'det:1 active again',
      );
      const t0 = performance.now();
      const rolled = await fleet.rollback(box.deviceId, 'yard');
      // Bounded by nextReport's 30 s; latency is measured by `./dev bench` (bench:rollout), not asserted here.
      await back;
      assert.equal(rolled.primary.sha256, m1.sha256);
      t.diagnostic(`commanded rollback → active: ${(performance.now() - t0).toFixed(0)} ms`);
    } finally {
      await agent.stop();
    }
  });

  it('an agent that crash-loops after an activation boots on the previous model and the control plane learns why', async () => {
    const dataDir = join(tmp.path, 'agent-crash');
    const configPath = join(tmp.path, 'crash.json');
    writeFileSync(
      configPath,
      JSON.stringify(
        fleet.agentConfig({
          device: box,
          dataDir,
          baselineModel: baseline,
          cameras: [{ id: 'lobby', uri: `dir://${images}`, loop: true, realtime: true, fps: 10 }],
          rollback: { crashLoopRestarts: 2, crashLoopWindowS: 600 },
          logLevel: 'info',
        }),
      ),
    );
    let child = new AgentChild(configPath);
    try {
      await fleet.waitForCamera(box.deviceId, 'lobby');
      await fleet.assign(box.deviceId, 'lobby', { model: 'det:1' });
      await fleet.waitForStatus(
        box.deviceId,
        'lobby',
        (s) => s.sha256 === m1.sha256 && s.state === 'active',
        'det:1 active on lobby',
      );
      await fleet.assign(box.deviceId, 'lobby', { model: 'det:2' });
      await fleet.waitForStatus(
        box.deviceId,
        'lobby',
        (s) => s.sha256 === m2.sha256 && s.state === 'active',
        'det:2 active on lobby',
      );
      // Two crashes within the window after det:2's activation: restart 1 counts, restart 2 rolls back at boot.
      await child.kill9();
      child = new AgentChild(configPath);
      await child.waitForLog('restart soon after a model activation');
      await child.kill9();
      child = new AgentChild(configPath);
      const report = await fleet.waitForStatus(
        box.deviceId,
        'lobby',
        (s) => s.sha256 === m2.sha256 && s.state === 'rolled_back',
        'crash-loop rollback reported',
        60_000,
      );
      assert.match(report.reason, /crash loop/);
      await waitFor(
        'assignment back on det:1',
        async () => (await fleet.assignment(box.deviceId, 'lobby')).primary.sha256 === m1.sha256,
      );
    } finally {
      await child.term();
    }
  });
});
