import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isCpError } from '../src/errors.js';
import type { DetectionRow, FrameRow, Store } from '../src/storage/store.js';
import { sqlStateOf } from '../src/storage/storage-errors.js';

/**
 * One behavioural suite for every Store implementation (run by storage-postgres.test.ts and
 * storage-pglite.test.ts). Tests share one database and keep out of each other's way with their own
 * device ids; the retention test only touches days before 2001.
 */

export interface OpenedTestStore {
  readonly store: Store;
  readonly cleanup: () => Promise<void>;
}

const DAY_MS = 86_400_000;

/** Frames of one camera with `perFrame` detections each; seq numbers continue across frames. */
export function makeRows(
  deviceId: string,
  cameraId: string,
  opts: { frames: number; perFrame: number; startMs: number; firstFrameSeq?: number; stepMs?: number },
): { frames: FrameRow[]; detections: DetectionRow[] } {
  const frames: FrameRow[] = [];
  const detections: DetectionRow[] = [];
  const first = opts.firstFrameSeq ?? 1;
  let seq = (first - 1) * opts.perFrame;
  for (let i = 0; i < opts.frames; i++) {
    const frameSeq = first + i;
    const tsMs = opts.startMs + i * (opts.stepMs ?? 100);
    const base = {
      deviceId,
      cameraId,
      tsMs,
      modelId: 'yolo',
      modelVersion: '1.0.0',
      arm: i % 2 === 0 ? 'primary' : 'candidate',
    };
    frames.push({ ...base, frameSeq, frameId: 1000 + frameSeq, detectionCount: opts.perFrame });
    for (let k = 0; k < opts.perFrame; k++) {
      seq++;
      // Values exactly representable as float4, so the round trip compares with equal.
      detections.push({
        ...base,
        seq,
        frameSeq,
        classId: k % 3,
        label: ['person', 'car', 'dog "quoted", {braced}'][k % 3] as string,
        score: 0.5 + k / 64,
        x1: 10.25,
        y1: 20.5,
        x2: 100,
        y2: 200.75,
      });
    }
  }
  return { frames, detections };
}

export function storeConformance(label: string, open: () => Promise<OpenedTestStore>): void {
  describe(`Store conformance: ${label}`, () => {
    let store: Store;
    let cleanup: () => Promise<void> = async () => {};
    const t0 = Date.UTC(2030, 0, 10, 12); // inside no partition until a test creates it

    before(async () => {
      ({ store, cleanup } = await open());
    });
    after(async () => {
      await store?.close();
      await cleanup();
    });

    test('migrate is idempotent: a second run applies nothing', async () => {
      assert.deepEqual(await store.migrate(), []);
    });

    test('insertBatch stores frames and detections and counts them', async () => {
      const rows = makeRows('dev-insert', 'cam-1', { frames: 10, perFrame: 3, startMs: t0 });
      const r = await store.insertBatch(rows.frames, rows.detections);
      assert.deepEqual(r, { insertedFrames: 10, insertedDetections: 30, duplicates: 0 });
      assert.equal(await store.countFrames({ deviceId: 'dev-insert' }), 10);
      assert.equal(await store.countDetections({ deviceId: 'dev-insert', cameraId: 'cam-1' }), 30);
      assert.equal(await store.countDetections({ deviceId: 'dev-insert', cameraId: 'cam-2' }), 0);
    });

    test('sequenceSummary reports rows, distinct sequence numbers and their range per camera', async () => {
      assert.deepEqual(await store.sequenceSummary('detections', 'dev-seqsum', 'cam-1'), {
        rows: 0,
        distinct: 0,
        min: null,
        max: null,
      });
      const a = makeRows('dev-seqsum', 'cam-1', { frames: 4, perFrame: 2, startMs: t0 });
      const gap = makeRows('dev-seqsum', 'cam-1', { frames: 2, perFrame: 2, startMs: t0 + 10_000, firstFrameSeq: 7 });
      await store.insertBatch([...a.frames, ...gap.frames], [...a.detections, ...gap.detections]);
      // Frames 1-4 and 7-8: six rows over a range of eight, so a gap of two shows as max - min + 1 > rows.
      assert.deepEqual(await store.sequenceSummary('frames', 'dev-seqsum', 'cam-1'), {
        rows: 6,
        distinct: 6,
        min: 1,
        max: 8,
      });
      assert.deepEqual(await store.sequenceSummary('detections', 'dev-seqsum', 'cam-1'), {
        rows: 12,
        distinct: 12,
        min: 1,
        max: 16,
      });
    });

    test('re-inserting a batch writes nothing and counts every row as a duplicate', async () => {
      const rows = makeRows('dev-idem', 'cam-1', { frames: 5, perFrame: 4, startMs: t0 });
      await store.insertBatch(rows.frames, rows.detections);
      assert.deepEqual(await store.insertBatch(rows.frames, rows.detections), {
        insertedFrames: 0,
        insertedDetections: 0,
        duplicates: 25,
      });
      // A batch overlapping the stored rows by 2 frames inserts only the new ones.
      const next = makeRows('dev-idem', 'cam-1', { frames: 5, perFrame: 4, startMs: t0 + 300, firstFrameSeq: 4 });
      assert.deepEqual(await store.insertBatch(next.frames, next.detections), {
        insertedFrames: 3,
        insertedDetections: 12,
        duplicates: 10,
      });
      assert.equal(await store.countFrames({ deviceId: 'dev-idem' }), 8);
      assert.equal(await store.countDetections({ deviceId: 'dev-idem' }), 32);
    });

    test('the same row twice in one batch is stored once and counted as a duplicate', async () => {
      const rows = makeRows('dev-twice', 'cam-1', { frames: 2, perFrame: 2, startMs: t0 });
      const r = await store.insertBatch([...rows.frames, ...rows.frames], [...rows.detections, ...rows.detections]);
      assert.deepEqual(r, { insertedFrames: 2, insertedDetections: 4, duplicates: 6 });
    });

    test('concurrent inserts of the same rows store each row exactly once', async () => {
      const rows = makeRows('dev-race', 'cam-1', { frames: 200, perFrame: 5, startMs: t0 });
      const results = await Promise.all([1, 2, 3, 4].map(() => store.insertBatch(rows.frames, rows.detections)));
      assert.equal(
        results.reduce((s, r) => s + r.insertedFrames, 0),
        200,
      );
      assert.equal(
        results.reduce((s, r) => s + r.insertedDetections, 0),
        1000,
      );
      assert.equal(
        results.reduce((s, r) => s + r.duplicates, 0),
        3 * 1200,
      );
      assert.equal(await store.countDetections({ deviceId: 'dev-race' }), 1000);
    });

    test('recentDetections returns one camera newest first, limited, with every field intact', async () => {
      const a = makeRows('dev-recent', 'cam-a', { frames: 6, perFrame: 2, startMs: t0 });
      const b = makeRows('dev-recent', 'cam-b', { frames: 3, perFrame: 2, startMs: t0 });
      await store.insertBatch([...a.frames, ...b.frames], [...a.detections, ...b.detections]);
      const recent = await store.recentDetections('dev-recent', 'cam-a', 5);
      assert.deepEqual(
        recent.map((d) => d.seq),
        [12, 11, 10, 9, 8],
      );
      assert.deepEqual(recent[0], a.detections[11]);
      assert.equal((await store.recentDetections('dev-recent', 'cam-b', 100)).length, 6);
      assert.deepEqual(await store.recentDetections('dev-recent', 'cam-none', 10), []);
    });

    test('recentFrames returns image statistics as stored (float4), and frames without them without', async () => {
      const rows = makeRows('dev-stats', 'cam-1', { frames: 3, perFrame: 1, startMs: t0 });
      // Float4 values (Math.fround), so the round trip compares with equal; one frame of an agent without stats.
      const lumaGrid = Array.from({ length: 16 }, (_, i) => Math.fround(i / 15));
      const imageStats = {
        brightness: Math.fround(0.1),
        contrast: 0.25,
        sharpness: Math.fround(1e-3),
        saturation: 1,
        lumaGrid,
      };
      const dark = { ...imageStats, brightness: 0, lumaGrid: Array(16).fill(0) };
      const frames = [{ ...rows.frames[0]!, imageStats }, rows.frames[1]!, { ...rows.frames[2]!, imageStats: dark }];
      await store.insertBatch(frames, rows.detections);
      const recent = await store.recentFrames('dev-stats', 'cam-1', 10);
      assert.deepEqual(recent, [...frames].reverse());
      assert.equal('imageStats' in recent[1]!, false);
      assert.deepEqual(
        (await store.recentFrames('dev-stats', 'cam-1', 1)).map((f) => f.frameSeq),
        [3],
      );
      assert.deepEqual(await store.recentFrames('dev-stats', 'cam-none', 10), []);
    });

    test('a row the database refuses fails the whole batch with CP_ERR_STORAGE and its SQLSTATE; nothing is written', async () => {
      const rows = makeRows('dev-poison', 'cam-1', { frames: 3, perFrame: 1, startMs: t0 });
      const poisoned = rows.detections.map((d, i) => (i === 2 ? { ...d, label: 'nul\u0000byte' } : d));
      await assert.rejects(store.insertBatch(rows.frames, poisoned), (err: unknown) => {
        assert.ok(isCpError(err, 'CP_ERR_STORAGE'), String(err));
        assert.equal(sqlStateOf(err), '22021');
        return true;
      });
      assert.equal(await store.countFrames({ deviceId: 'dev-poison' }), 0);
      assert.equal(await store.countDetections({ deviceId: 'dev-poison' }), 0);
    });

    test('a large batch (2,000 frames, 20,000 detections) is one statement', async () => {
      const rows = makeRows('dev-large', 'cam-1', { frames: 2000, perFrame: 10, startMs: t0, stepMs: 10 });
      assert.deepEqual(await store.insertBatch(rows.frames, rows.detections), {
        insertedFrames: 2000,
        insertedDetections: 20000,
        duplicates: 0,
      });
    });

    test('ensurePartitions creates day partitions once; rows already in the default partition move into them', async () => {
      const day0 = Date.UTC(2031, 5, 1);
      // Two days of rows before their partitions exist: they land in the default partitions.
      const rows = makeRows('dev-part', 'cam-1', { frames: 4, perFrame: 2, startMs: day0 + DAY_MS - 200, stepMs: 100 });
      await store.insertBatch(rows.frames, rows.detections);
      const created = await store.ensurePartitions('2031-06-01', 3);
      assert.deepEqual(created.sort(), [
        'detections_p20310601',
        'detections_p20310602',
        'detections_p20310603',
        'frames_p20310601',
        'frames_p20310602',
        'frames_p20310603',
      ]);
      assert.deepEqual(await store.ensurePartitions('2031-06-01', 3), []);
      const parts = await store.listPartitions();
      assert.ok(parts.some((p) => p.name === 'frames_default' && p.day === null));
      assert.ok(
        parts.some((p) => p.name === 'detections_p20310602' && p.table === 'detections' && p.day === '2031-06-02'),
      );
      // Moved rows are still there once, and still conflict with a redelivery.
      assert.equal(await store.countDetections({ deviceId: 'dev-part' }), 8);
      assert.deepEqual(await store.insertBatch(rows.frames, rows.detections), {
        insertedFrames: 0,
        insertedDetections: 0,
        duplicates: 12,
      });
      // New rows of a created day go to its partition and are idempotent there too.
      const later = makeRows('dev-part', 'cam-1', {
        frames: 2,
        perFrame: 1,
        startMs: day0 + 2 * DAY_MS + 1000,
        firstFrameSeq: 10,
      });
      assert.equal((await store.insertBatch(later.frames, later.detections)).insertedDetections, 2);
      assert.equal((await store.insertBatch(later.frames, later.detections)).duplicates, 4);
    });

    test('ensurePartitions rejects a malformed day', async () => {
      await assert.rejects(store.ensurePartitions('2031-02-30', 1), RangeError);
    });

    test('retention drops day partitions before the cutoff and old rows of the default partition; newer rows stay', async () => {
      await store.ensurePartitions('2000-01-01', 3);
      const inPartitions = makeRows('dev-retention', 'cam-1', {
        frames: 3,
        perFrame: 1,
        startMs: Date.UTC(2000, 0, 1, 12),
        stepMs: DAY_MS,
      });
      const inDefault = makeRows('dev-retention', 'cam-1', {
        frames: 2,
        perFrame: 1,
        startMs: Date.UTC(1999, 11, 30, 12),
        stepMs: DAY_MS,
        firstFrameSeq: 100,
      });
      await store.insertBatch(
        [...inPartitions.frames, ...inDefault.frames],
        [...inPartitions.detections, ...inDefault.detections],
      );
      assert.equal(await store.countDetections({ deviceId: 'dev-retention' }), 5);
      const dropped = await store.dropPartitionsOlderThan('2000-01-03');
      assert.deepEqual(dropped.sort(), [
        'detections_p20000101',
        'detections_p20000102',
        'frames_p20000101',
        'frames_p20000102',
      ]);
      // Kept: the 2000-01-03 row in its partition. Deleted: the two default-partition rows of 1999.
      assert.equal(await store.countDetections({ deviceId: 'dev-retention' }), 1);
      assert.equal(await store.countFrames({ deviceId: 'dev-retention' }), 1);
      assert.ok((await store.listPartitions()).some((p) => p.name === 'frames_p20000103'));
      assert.deepEqual(await store.dropPartitionsOlderThan('2000-01-03'), []);
      // Rows of other tests (2030+) are untouched.
      assert.equal(await store.countDetections({ deviceId: 'dev-insert' }), 30);
    });

    test('enrolment stores a credential hash once; replace rotates it', async () => {
      assert.equal(await store.deviceCredential('dev-enrol'), null);
      await store.enrolDevice('dev-enrol', 'hash-1');
      assert.equal(await store.deviceCredential('dev-enrol'), 'hash-1');
      await assert.rejects(store.enrolDevice('dev-enrol', 'hash-2'), (err: unknown) =>
        isCpError(err, 'CP_ERR_DEVICE_EXISTS'),
      );
      assert.equal(await store.deviceCredential('dev-enrol'), 'hash-1');
      await store.enrolDevice('dev-enrol', 'hash-3', { replace: true });
      assert.equal(await store.deviceCredential('dev-enrol'), 'hash-3');
      const device = await store.getDevice('dev-enrol');
      assert.equal(device?.enrolled, true);
      assert.equal(typeof device?.enrolledAt, 'number');
    });

    test('status and metrics reports record last seen, online and the latest report, also for devices not enrolled here', async () => {
      await store.updateDeviceStatus({
        deviceId: 'dev-status',
        online: true,
        status: { agentVersion: '1.2.3', cameras: [{ cameraId: 'c' }] },
        seenAt: 1_800_000_000_000,
      });
      let d = await store.getDevice('dev-status');
      assert.equal(d?.enrolled, false);
      assert.equal(d?.online, true);
      assert.equal(d?.lastSeen, 1_800_000_000_000);
      assert.deepEqual(d?.status, { agentVersion: '1.2.3', cameras: [{ cameraId: 'c' }] });
      await store.updateDeviceMetrics({
        deviceId: 'dev-status',
        metrics: { publishedBatches: 7 },
        seenAt: 1_800_000_001_000,
      });
      await store.updateDeviceStatus({
        deviceId: 'dev-status',
        online: false,
        status: { online: false },
        seenAt: 1_800_000_000_500,
      });
      d = await store.getDevice('dev-status');
      assert.equal(d?.online, false);
      assert.equal(d?.lastSeen, 1_800_000_001_000, 'last seen never goes back');
      assert.deepEqual(d?.metrics, { publishedBatches: 7 });
      // Telemetry-only devices can still be enrolled.
      await store.enrolDevice('dev-status', 'hash');
      assert.ok((await store.listDevices()).some((x) => x.id === 'dev-status' && x.enrolled));
    });
  });
}
