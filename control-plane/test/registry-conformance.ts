import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { isCpError } from '../src/errors.js';
import type { NewModel } from '../src/storage/registry-store.js';
import type { Store } from '../src/storage/store.js';
import { sqlStateOf } from '../src/storage/storage-errors.js';

/**
 * One behavioural suite for the RegistryStore on every database (run by storage-postgres.test.ts and
 * storage-pglite.test.ts beside the Store suite). Tests keep out of each other's way with their own
 * device ids and model names.
 */

export interface OpenedRegistryTestStore {
  readonly store: Store;
  /** Runs raw SQL on the same database (to try what the schema must refuse). */
  readonly sql: (text: string) => Promise<void>;
  readonly cleanup: () => Promise<void>;
}

/** A model row with made-up bytes: the registry stores what it is given. */
export function fakeModel(serial: number, name: string, version: string, overrides: Partial<NewModel> = {}): NewModel {
  return {
    serial,
    name,
    version,
    sha256: randomBytes(32).toString('hex'),
    sizeBytes: 1234,
    signature: randomBytes(64),
    keyId: '0123456789abcdef',
    classNames: ['person', 'car'],
    inputWidth: 640,
    inputHeight: 480,
    adapter: 'yolov8',
    metrics: null,
    parentSerial: null,
    createdBy: 'token:test',
    ...overrides,
  };
}

export function registryConformance(label: string, open: () => Promise<OpenedRegistryTestStore>): void {
  describe(`RegistryStore conformance: ${label}`, () => {
    let store: Store;
    let sql: (text: string) => Promise<void>;
    let cleanup: () => Promise<void> = async () => {};

    before(async () => {
      ({ store, sql, cleanup } = await open());
    });
    after(async () => {
      await store?.close();
      await cleanup();
    });

    async function addModel(name: string, version: string, overrides: Partial<NewModel> = {}) {
      const serial = await store.registry.nextModelSerial();
      return store.registry.insertModel(fakeModel(serial, name, version, overrides));
    }

    async function camera(deviceId: string, cameraId: string): Promise<void> {
      if (!(await store.registry.deviceExists(deviceId))) await store.enrolDevice(deviceId, 'hash');
      await store.registry.upsertCameras(deviceId, [{ cameraId, source: 'rtsp://cam', status: 'running' }], Date.now());
    }

    test('models keep every field; serials increase with each upload', async () => {
      const a = await addModel('reg-fields', '1', { metrics: { mAP50: 0.5 } });
      const b = await addModel('reg-fields', '2', { parentSerial: a.serial });
      assert.ok(b.serial > a.serial);
      const got = await store.registry.getModel(b.serial);
      assert.deepEqual(got, b);
      assert.equal(got?.parentSerial, a.serial);
      assert.equal(got?.signature.length, 64);
      assert.deepEqual(got?.classNames, ['person', 'car']);
      assert.deepEqual((await store.registry.getModel(a.serial))?.metrics, { mAP50: 0.5 });
      assert.equal(typeof got?.createdAt, 'number');
      assert.deepEqual(await store.registry.findModel('reg-fields', '1'), a);
      assert.equal(await store.registry.findModel('reg-fields', '3'), null);
      assert.equal(await store.registry.getModel(999_999_999), null);
    });

    test('a name and version are registered once: CP_ERR_MODEL_EXISTS', async () => {
      await addModel('reg-dup', '1');
      await assert.rejects(addModel('reg-dup', '1'), (err: unknown) => isCpError(err, 'CP_ERR_MODEL_EXISTS'));
    });

    test('names and versions with line breaks are refused by the database: CP_ERR_MODEL_NAME', async () => {
      // The signed payload is one field per line (proto artifact-signature.ts).
      await assert.rejects(addModel('reg\nbreak', '1'), (err: unknown) => isCpError(err, 'CP_ERR_MODEL_NAME'));
      await assert.rejects(addModel('reg-break', '1\r'), (err: unknown) => isCpError(err, 'CP_ERR_MODEL_NAME'));
    });

    test('findModelBySha256 returns the newest model with those bytes; listModels pages newest first and filters by name', async () => {
      const sha256 = randomBytes(32).toString('hex');
      await addModel('reg-sha-a', '1', { sha256 });
      const newer = await addModel('reg-sha-b', '1', { sha256 });
      assert.equal((await store.registry.findModelBySha256(sha256))?.serial, newer.serial);
      assert.equal(await store.registry.findModelBySha256('0'.repeat(64)), null);

      const made = [];
      for (let i = 1; i <= 5; i++) made.push(await addModel('reg-list', String(i)));
      const page1 = await store.registry.listModels({ name: 'reg-list', limit: 3 });
      assert.deepEqual(
        page1.map((m) => m.version),
        ['5', '4', '3'],
      );
      const page2 = await store.registry.listModels({ name: 'reg-list', limit: 3, beforeSerial: page1[2]!.serial });
      assert.deepEqual(
        page2.map((m) => m.version),
        ['2', '1'],
      );
      assert.ok((await store.registry.listModels({ limit: 1000 })).length >= 7);
    });

    test('agent info and cameras are recorded per device; a camera update without status keeps the stored status', async () => {
      await store.enrolDevice('reg-agent', 'hash');
      await store.registry.recordAgent({
        deviceId: 'reg-agent',
        agentVersion: '0.5.0',
        hardware: 'jetson-orin',
        providers: ['cuda', 'cpu'],
        seenAt: 1_800_000_000_000,
      });
      const device = await store.getDevice('reg-agent');
      assert.equal(device?.agentVersion, '0.5.0');
      assert.equal(device?.hardware, 'jetson-orin');
      assert.deepEqual(device?.providers, ['cuda', 'cpu']);
      assert.equal(device?.lastSeen, 1_800_000_000_000);

      await store.registry.upsertCameras(
        'reg-agent',
        [
          { cameraId: 'front', source: 'rtsp://10.0.0.1/s1', status: 'running' },
          { cameraId: 'back', source: 'v4l2:///dev/video0' },
        ],
        1_800_000_000_000,
      );
      await store.registry.upsertCameras(
        'reg-agent',
        [{ cameraId: 'front', status: 'failed', lastError: 'EOS' }],
        1_800_000_001_000,
      );
      await store.registry.upsertCameras(
        'reg-agent',
        [{ cameraId: 'back', source: 'v4l2:///dev/video1' }],
        1_800_000_002_000,
      );
      const cams = await store.registry.listCameras('reg-agent');
      assert.deepEqual(
        cams.map((c) => [c.cameraId, c.source, c.status, c.lastError]),
        [
          ['back', 'v4l2:///dev/video1', null, null],
          ['front', 'rtsp://10.0.0.1/s1', 'failed', 'EOS'],
        ],
      );
      assert.equal((await store.registry.getCamera('reg-agent', 'front'))?.updatedAt, 1_800_000_001_000);
      assert.equal(await store.registry.getCamera('reg-agent', 'nope'), null);
      assert.ok((await store.registry.listCameras()).length >= 2);
    });

    test('assignments: revisions come from one increasing sequence; put replaces, delete removes, history keeps every revision newest first', async () => {
      await camera('reg-assign', 'cam-1');
      const m1 = await addModel('reg-assign', '1');
      const m2 = await addModel('reg-assign', '2');
      const r1 = await store.registry.nextRevision();
      const r2 = await store.registry.nextRevision();
      assert.ok(r2 > r1);
      const base = {
        deviceId: 'reg-assign',
        cameraId: 'cam-1',
        candidateSerial: null,
        candidateMode: null,
        splitBasisPoints: 0,
        rollback: false,
        reason: 'first',
        policy: null,
        previousPrimaries: [],
        updatedBy: 'token:a',
      } as const;
      await store.registry.putAssignment({ ...base, primarySerial: m1.serial, revision: r1 });
      await store.registry.appendAssignmentHistory({
        ...base,
        action: 'assign',
        primarySerial: m1.serial,
        revision: r1,
        actor: 'token:a',
      });
      const policy = {
        maxErrorRate: 0.1,
        errorWindowFrames: 100,
        p95LatencyBudgetMs: 50,
        latencyWindowFrames: 200,
        crashLoopRestarts: 3,
        crashLoopWindowS: 60,
      };
      await store.registry.putAssignment({
        ...base,
        primarySerial: m1.serial,
        candidateSerial: m2.serial,
        candidateMode: 'split',
        splitBasisPoints: 1000,
        revision: r2,
        policy,
        previousPrimaries: [7, 8],
      });
      await store.registry.appendAssignmentHistory({
        ...base,
        action: 'assign',
        primarySerial: m1.serial,
        candidateSerial: m2.serial,
        candidateMode: 'split',
        splitBasisPoints: 1000,
        revision: r2,
        policy,
        actor: 'token:a',
      });
      const got = await store.registry.getAssignment('reg-assign', 'cam-1');
      assert.equal(got?.revision, r2);
      assert.equal(got?.candidateSerial, m2.serial);
      assert.equal(got?.candidateMode, 'split');
      assert.equal(got?.splitBasisPoints, 1000);
      assert.deepEqual(got?.policy, policy);
      assert.deepEqual(got?.previousPrimaries, [7, 8]);
      assert.deepEqual(
        (await store.registry.listAssignments('reg-assign')).map((a) => a.revision),
        [r2],
      );

      const history = await store.registry.assignmentHistory('reg-assign', 'cam-1', 10);
      assert.deepEqual(
        history.map((h) => h.revision),
        [r2, r1],
      );
      assert.deepEqual(history[0]?.policy, policy);
      assert.equal(history[1]?.candidateSerial, null);

      const before = await store.registry.historyFingerprint();
      const r3 = await store.registry.nextRevision();
      await store.registry.deleteAssignment('reg-assign', 'cam-1');
      await store.registry.appendAssignmentHistory({
        ...base,
        action: 'unassign',
        primarySerial: null,
        revision: r3,
        actor: 'system',
      });
      assert.equal(await store.registry.getAssignment('reg-assign', 'cam-1'), null);
      const afterFp = await store.registry.historyFingerprint();
      assert.deepEqual(afterFp, { rows: before.rows + 1, maxRevision: Math.max(before.maxRevision, r3) });
      const counts = await store.registry.historyCounts(['reg-assign', 'reg-nobody']);
      assert.equal(counts.get('reg-assign'), 3);
      assert.equal(counts.has('reg-nobody'), false);
    });

    test('the schema refuses an assignment for an unknown camera, a candidate without a mode, a split share in shadow mode', async () => {
      await camera('reg-refuse', 'cam-1');
      const m = await addModel('reg-refuse', '1');
      const base = {
        deviceId: 'reg-refuse',
        cameraId: 'cam-1',
        primarySerial: m.serial,
        candidateSerial: null,
        candidateMode: null,
        splitBasisPoints: 0,
        rollback: false,
        reason: '',
        policy: null,
        previousPrimaries: [],
        updatedBy: 'x',
      } as const;
      const refused = (err: unknown) => isCpError(err, 'CP_ERR_STORAGE') && (sqlStateOf(err) ?? '').startsWith('23');
      await assert.rejects(
        store.registry.putAssignment({
          ...base,
          cameraId: 'cam-unknown',
          revision: await store.registry.nextRevision(),
        }),
        refused,
      );
      await assert.rejects(
        store.registry.putAssignment({
          ...base,
          candidateSerial: m.serial,
          revision: await store.registry.nextRevision(),
        }),
        refused,
      );
      await assert.rejects(
        store.registry.putAssignment({
          ...base,
          candidateSerial: m.serial,
          candidateMode: 'shadow',
          splitBasisPoints: 100,
          revision: await store.registry.nextRevision(),
        }),
        refused,
      );
    });

    test('a transaction that throws leaves nothing behind', async () => {
      await camera('reg-tx', 'cam-1');
      const m = await addModel('reg-tx', '1');
      const boom = new Error('boom');
      await assert.rejects(
        store.registry.transaction(async (tx) => {
          const revision = await tx.nextRevision();
          await tx.putAssignment({
            deviceId: 'reg-tx',
            cameraId: 'cam-1',
            primarySerial: m.serial,
            candidateSerial: null,
            candidateMode: null,
            splitBasisPoints: 0,
            rollback: false,
            reason: '',
            revision,
            policy: null,
            previousPrimaries: [],
            updatedBy: 'x',
          });
          await tx.appendAudit({ actor: 'x', action: 'assignment.assign', target: 'camera:reg-tx/cam-1' });
          throw boom;
        }),
        (err: unknown) => err === boom,
      );
      assert.equal(await store.registry.getAssignment('reg-tx', 'cam-1'), null);
      assert.deepEqual(await store.registry.listAudit({ target: 'camera:reg-tx/cam-1', limit: 10 }), []);
    });

    test('lockCamera serialises concurrent read-modify-write transactions of one camera', async () => {
      await camera('reg-lock', 'cam-1');
      const m = await addModel('reg-lock', '1');
      const bump = () =>
        store.registry.transaction(async (tx) => {
          await tx.lockCamera('reg-lock', 'cam-1');
          const current = await tx.getAssignment('reg-lock', 'cam-1');
          const count = Number(current?.reason ?? '0');
          await tx.putAssignment({
            deviceId: 'reg-lock',
            cameraId: 'cam-1',
            primarySerial: m.serial,
            candidateSerial: null,
            candidateMode: null,
            splitBasisPoints: 0,
            rollback: false,
            reason: String(count + 1),
            revision: await tx.nextRevision(),
            policy: null,
            previousPrimaries: [],
            updatedBy: 'x',
          });
        });
      await Promise.all(Array.from({ length: 8 }, bump));
      assert.equal((await store.registry.getAssignment('reg-lock', 'cam-1'))?.reason, '8');
    });

    test('model status keeps the latest report per camera and arm, and every report in the history', async () => {
      const report = {
        deviceId: 'reg-status',
        cameraId: 'cam-1',
        arm: 'primary',
        sha256: 'a'.repeat(64),
        modelId: 'm',
        version: '1',
        reason: '',
        revision: 5,
        rolledBackTo: '',
        bytesDone: 0,
        reportedAt: 1_800_000_000_000,
      } as const;
      await store.registry.recordModelStatus({ ...report, state: 'downloading', bytesDone: 100 });
      await store.registry.recordModelStatus({ ...report, state: 'active', reportedAt: 1_800_000_001_000 });
      await store.registry.recordModelStatus({
        ...report,
        arm: 'candidate',
        sha256: 'b'.repeat(64),
        state: 'rolled_back',
        reason: 'p95 120 ms > 50 ms',
        rolledBackTo: 'a'.repeat(64),
      });
      const latest = await store.registry.latestModelStatus('reg-status');
      assert.deepEqual(
        latest.map((s) => [s.arm, s.state]),
        [
          ['candidate', 'rolled_back'],
          ['primary', 'active'],
        ],
      );
      assert.equal(latest[0]?.rolledBackTo, 'a'.repeat(64));
      assert.equal(latest[1]?.reportedAt, 1_800_000_001_000);
      const history = await store.registry.modelStatusHistory('reg-status', 10);
      assert.deepEqual(
        history.map((s) => s.state),
        ['rolled_back', 'active', 'downloading'],
      );
      assert.equal(history[2]?.bytesDone, 100);
      assert.deepEqual(await store.registry.latestModelStatus('reg-status', 'cam-2'), []);
    });

    test('the audit log pages newest first and filters by target and action', async () => {
      const target = `model:${randomBytes(4).toString('hex')}`;
      const first = await store.registry.appendAudit({
        actor: 'token:a',
        action: 'model.upload',
        target,
        details: { sha256: 'x' },
      });
      await store.registry.appendAudit({ actor: 'token:a', action: 'model.download', target });
      await store.registry.appendAudit({ actor: 'token:b', action: 'model.upload', target: 'model:other' });
      assert.deepEqual(first.details, { sha256: 'x' });
      assert.equal(typeof first.at, 'number');
      const mine = await store.registry.listAudit({ target, limit: 10 });
      assert.deepEqual(
        mine.map((e) => e.action),
        ['model.download', 'model.upload'],
      );
      assert.deepEqual(
        (await store.registry.listAudit({ target, limit: 1, beforeId: mine[0]!.id })).map((e) => e.id),
        [first.id],
      );
      assert.deepEqual(
        (await store.registry.listAudit({ target, action: 'model.upload', limit: 10 })).map((e) => e.id),
        [first.id],
      );
    });

    test('the audit log refuses UPDATE, DELETE and TRUNCATE', async () => {
      const entry = await store.registry.appendAudit({
        actor: 'token:a',
        action: 'model.upload',
        target: 'model:immutable',
      });
      for (const statement of [
        `UPDATE audit_log SET actor = 'someone else' WHERE id = ${entry.id}`,
        `DELETE FROM audit_log WHERE id = ${entry.id}`,
        'TRUNCATE audit_log',
      ]) {
        await assert.rejects(sql(statement), (err: unknown) => {
          assert.equal(sqlStateOf(err), '42501', `${statement}: ${String(err)}`);
          assert.match(String((err as Error).message), /append-only/);
          return true;
        });
      }
      const [kept] = await store.registry.listAudit({ target: 'model:immutable', limit: 1 });
      assert.equal(kept?.actor, 'token:a');
    });
  });
}
