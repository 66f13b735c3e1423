/**
 * Store-and-forward under faults, end to end: real agents (child processes of the CLI, real GStreamer and
 * ONNX Runtime) → MQTT (embedded aedes) → ingest → PostgreSQL and PGlite. After each scenario the
 * outbox is drained and every detection and frame the cameras produced must be in the database exactly
 * once: per camera, rows = distinct sequence numbers = the outbox's last sequence number, starting at 1, and
 * each stored detection equal to the one the outbox committed (a ledger trigger in the outbox file keeps those).
 * Since the ingest's key makes stored rows distinct by construction, the kill test also shows that redelivery
 * was exercised: kills left rows stored but unacknowledged, and the ingest skipped duplicates.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { imageSequence, shared, tempDir } from '../support/fixtures.js';
import {
  AgentProcess,
  CuttableLink,
  FleetControlPlane,
  STORE_KINDS,
  TestDatabase,
  freePort,
  outboxAudit,
  sleep,
  waitFor,
  writeAgentConfig,
  type AgentSpec,
} from '../support/fleet-harness.js';
import {
  type CommittedDetection,
  committedDetections,
  installOutboxLedger,
  storedButUnacknowledged,
} from '../support/outbox-ledger.js';

const KILLS = Number(process.env.FAULT_KILLS ?? 20);

interface Fleet {
  spec: AgentSpec;
  cp: FleetControlPlane;
  db: TestDatabase;
  outbox: string;
  cleanup: () => Promise<void>;
}

async function fleet(
  kind: (typeof STORE_KINDS)[number],
  name: string,
  viaPort?: (brokerPort: number) => Promise<number>,
  ingest: { readonly flushIntervalMs?: number } = {},
): Promise<Fleet> {
  const tmp = tempDir(`fault-${name}-${kind}`);
  const db = await TestDatabase.create(kind, tmp.path);
  const cp = new FleetControlPlane(db, join(tmp.path, 'cp'), await freePort(), ingest);
  await cp.start();
  const deviceId = `box-${name}`;
  const credentials = await cp.enrol(deviceId);
  const seq = imageSequence(join(tmp.path, 'seq'), shared('images/person.jpg'), 8);
  const spec: AgentSpec = {
    dir: tmp.path,
    deviceId,
    mqttPort: viaPort ? await viaPort(cp.mqttPort) : cp.mqttPort,
    credentials,
    model: shared('models/yolov8n_int8.onnx'),
    cameras: [
      { id: 'people', uri: `dir://${seq}`, loop: true },
      { id: 'pattern', uri: 'testsrc://?pattern=ball&width=320&height=240&fps=5' },
    ],
  };
  const outbox = join(tmp.path, 'agent-data', 'outbox.sqlite');
  installOutboxLedger(outbox, deviceId);
  return {
    spec,
    cp,
    db,
    outbox,
    cleanup: async () => {
      await cp.stop();
      await db.drop();
      tmp.cleanup();
    },
  };
}

/** Runs an agent with its cameras disabled until the outbox is empty: only sync is left to do. */
async function drain(f: Fleet): Promise<void> {
  const agent = new AgentProcess(writeAgentConfig(f.spec, 'drain', true));
  try {
    await waitFor('drain agent ready', () => agent.log().includes('"agent ready"'), 60_000);
    await waitFor('outbox drained', () => outboxAudit(f.outbox).pendingFrames === 0, 120_000);
  } finally {
    assert.equal(await agent.term(), 0, agent.log());
  }
}

/** Waits until the ingest holds nothing (what a killed agent sent last is stored or refused). */
async function ingestSettled(f: Fleet): Promise<void> {
  let quiet = 0;
  await waitFor(
    'ingest settled',
    () => {
      quiet = f.cp.cp!.stats.snapshot().pendingRows === 0 ? quiet + 1 : 0;
      return quiet >= 3;
    },
    30_000,
  );
}

/** Float columns cross the wire as float32: equal to within float32 precision. */
function sameDetection(stored: CommittedDetection, committed: CommittedDetection): boolean {
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
  return (
    stored.cameraId === committed.cameraId &&
    stored.seq === committed.seq &&
    stored.frameSeq === committed.frameSeq &&
    stored.tsMs === committed.tsMs &&
    stored.modelId === committed.modelId &&
    stored.modelVersion === committed.modelVersion &&
    stored.arm === committed.arm &&
    stored.classId === committed.classId &&
    stored.label === committed.label &&
    close(stored.score, committed.score) &&
    close(stored.x1, committed.x1) &&
    close(stored.y1, committed.y1) &&
    close(stored.x2, committed.x2) &&
    close(stored.y2, committed.y2)
  );
}

/** The newest (up to 10 000) stored detections of each camera equal what the outbox committed under their numbers. */
async function assertStoredAsCommitted(f: Fleet, camera: string): Promise<void> {
  const committed = committedDetections(f.outbox, camera);
  const stored = (await f.cp.store!.recentDetections(f.spec.deviceId, camera, 10_000)).reverse();
  const expected = committed.slice(-stored.length);
  assert.equal(stored.length, Math.min(10_000, committed.length), `${camera}: stored detections`);
  for (let i = 0; i < stored.length; i++) {
    const { deviceId, ...row } = stored[i]!;
    assert.equal(deviceId, f.spec.deviceId);
    assert.ok(
      sameDetection(row, expected[i]!),
      `${camera}: stored ${JSON.stringify(row)} but the outbox committed ${JSON.stringify(expected[i])}`,
    );
  }
}

async function assertExactlyOnce(f: Fleet): Promise<{ frames: number; detections: number }> {
  const audit = outboxAudit(f.outbox);
  assert.equal(audit.evicted, 0, 'the outbox bound was not reached, so nothing may have been evicted');
  assert.equal(audit.pendingFrames, 0);
  let frames = 0;
  let detections = 0;
  for (const [camera, produced] of audit.produced) {
    const fs = await f.cp.store!.sequenceSummary('frames', f.spec.deviceId, camera);
    const ds = await f.cp.store!.sequenceSummary('detections', f.spec.deviceId, camera);
    assert.deepEqual(
      fs,
      {
        rows: produced.frames,
        distinct: produced.frames,
        min: produced.frames ? 1 : null,
        max: produced.frames || null,
      },
      `${camera} frames`,
    );
    assert.deepEqual(
      ds,
      {
        rows: produced.detections,
        distinct: produced.detections,
        min: produced.detections ? 1 : null,
        max: produced.detections || null,
      },
      `${camera} detections`,
    );
    await assertStoredAsCommitted(f, camera);
    frames += produced.frames;
    detections += produced.detections;
  }
  assert.ok(audit.produced.get('people')!.detections > 0, 'the people camera produced detections');
  return { frames, detections };
}

for (const kind of STORE_KINDS) {
  describe(`store-and-forward through faults (${kind})`, () => {
    test(`kill -9 of the agent at ${KILLS} random points during sync loses and duplicates nothing`, async (t) => {
      // The embedded broker acknowledges a batch once the ingest committed it: a slower commit (300 ms instead
      // of 5) keeps each batch in flight long enough for kills at random points to hit some.
      const f = await fleet(kind, 'kill9', undefined, { flushIntervalMs: 300 });
      t.after(f.cleanup);
      const config = writeAgentConfig(f.spec, 'agent');
      let killsInFlight = 0;
      for (let i = 0; i < KILLS; i++) {
        const agent = new AgentProcess(config);
        await waitFor(
          'agent ready',
          () => agent.log().includes('"agent ready"') || agent.child.exitCode !== null,
          60_000,
        ).catch(() => undefined);
        // Random point: anywhere from this run's first publish to a few batches into the run.
        const received = () => f.cp.cp!.stats.snapshot().received.detections;
        const before = received();
        await waitFor('this run publishes', () => received() > before, 60_000).catch(() => undefined);
        await sleep(Math.floor(Math.random() * 1800));
        await agent.kill9();
        await ingestSettled(f);
        if ((await storedButUnacknowledged(f.outbox, f.cp.store!, f.spec.deviceId)) > 0) killsInFlight++;
      }
      assert.ok(killsInFlight > 0, 'some kill hit a batch in flight (stored, not yet acknowledged in the outbox)');
      await drain(f);
      const totals = await assertExactlyOnce(f);
      assert.ok(f.cp.duplicateRows > 0, 'the batches in flight were delivered again and skipped as duplicates');
      t.diagnostic(
        `${KILLS} crashes, ${killsInFlight} with a batch in flight; ${f.cp.duplicateRows} duplicate rows skipped; ` +
          `${totals.frames} frames and ${totals.detections} detections stored exactly once`,
      );
    });

    test('a control-plane (embedded broker) restart mid-stream and an outage of a few seconds lose and duplicate nothing', async (t) => {
      const f = await fleet(kind, 'restart');
      t.after(f.cleanup);
      const agent = new AgentProcess(writeAgentConfig(f.spec, 'agent'));
      t.after(() => agent.kill9());
      await waitFor('rows ingested', async () => (await f.cp.store!.countFrames({ deviceId: f.spec.deviceId })) > 5);
      await f.cp.stop(); // restart mid-stream
      await f.cp.start();
      await sleep(1500);
      await f.cp.stop(); // down for a while; cameras keep producing into the outbox
      const before = outboxAudit(f.outbox).pendingFrames;
      await sleep(3000);
      assert.ok(outboxAudit(f.outbox).pendingFrames > before, 'detection continued while the control plane was down');
      await f.cp.start();
      await sleep(1500);
      assert.equal(await agent.term(), 0, agent.log());
      await drain(f);
      const totals = await assertExactlyOnce(f);
      t.diagnostic(
        `${totals.frames} frames and ${totals.detections} detections stored exactly once; ${f.cp.duplicateRows} duplicate rows skipped`,
      );
    });

    test('a network cut between agent and broker while cameras keep producing loses and duplicates nothing', async (t) => {
      let link: CuttableLink | null = null;
      const f = await fleet(kind, 'netcut', async (brokerPort) => {
        link = new CuttableLink(brokerPort);
        await link.start();
        return link.port;
      });
      t.after(f.cleanup);
      t.after(() => link?.stop());
      const agent = new AgentProcess(writeAgentConfig(f.spec, 'agent'));
      t.after(() => agent.kill9());
      await waitFor('rows ingested', async () => (await f.cp.store!.countFrames({ deviceId: f.spec.deviceId })) > 5);
      link!.setCut(true);
      // What crossed the link before the cut may still be in the broker or a gathering batch: the baseline is
      // the count once ingest is idle and the count holds still for half a second.
      const count = () => f.cp.store!.countFrames({ deviceId: f.spec.deviceId });
      let stored = -1;
      for (let i = 0; i < 40; i++) {
        const n = await count();
        if (n === stored && f.cp.cp!.stats.snapshot().pendingRows === 0) break;
        stored = n;
        await sleep(500);
      }
      await sleep(3000);
      assert.ok(outboxAudit(f.outbox).pendingFrames > 0, 'frames wait in the outbox while the link is down');
      assert.equal(
        await f.cp.store!.countFrames({ deviceId: f.spec.deviceId }),
        stored,
        'nothing arrives through a cut link',
      );
      link!.setCut(false);
      await waitFor(
        'rows flow again',
        async () => (await f.cp.store!.countFrames({ deviceId: f.spec.deviceId })) > stored,
      );
      assert.equal(await agent.term(), 0, agent.log());
      await drain(f);
      const totals = await assertExactlyOnce(f);
      t.diagnostic(
        `${totals.frames} frames and ${totals.detections} detections stored exactly once; ${f.cp.duplicateRows} duplicate rows skipped`,
      );
    });
  });
}
