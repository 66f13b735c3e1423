import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import {
  encodeDetectionBatch,
  encodeDeviceMetrics,
  encodeDeviceStatus,
  metricsTopic,
  statusTopic,
  type DeviceStatus,
} from '@edgefleet/proto';
import {
  STORE_KINDS,
  connectDevice,
  lifo,
  detectionsTopic,
  encodedBatches,
  makeBatch,
  openTestStore,
  publishAcked,
  startControlPlane,
  uniqueId,
  waitFor,
} from './ingest-test-kit.js';

function status(deviceId: string, online: boolean): DeviceStatus {
  return {
    deviceId,
    online,
    agentVersion: '0.1.0',
    startedAtMs: Date.now() - 1000,
    reportedAtMs: Date.now(),
    cameras: [],
    outboxFrames: 0,
    outboxDetections: 0,
    outboxEvictedDetections: 0,
    syncLagMs: 0,
    hardware: 'test',
    providers: ['cpu'],
  };
}

for (const kind of STORE_KINDS) {
  describe(`ingest through the embedded broker (${kind})`, () => {
    test('a PUBACK means committed: every row of every acknowledged batch is in the database right away', async (tc) => {
      const t = lifo(tc);
      const { store } = await openTestStore(t, kind);
      const cp = await startControlPlane(t, store);
      const device = uniqueId('dev');
      const client = await connectDevice(t, cp, device);
      const batches = encodedBatches(device, 'cam-1', 20, 10, 3);
      // Several in flight at once, as the agent's window does.
      await Promise.all(batches.map((b) => publishAcked(client, detectionsTopic(device), b)));
      // No waiting: the acknowledgements came after the commits.
      assert.equal(await store.countFrames({ deviceId: device }), 200);
      assert.equal(await store.countDetections({ deviceId: device }), 600);
      const stats = cp.stats.snapshot();
      assert.equal(stats.received.detections, 20);
      assert.equal(stats.stored.detections, 20);
      assert.equal(stats.insertedDetections, 600);
      assert.equal(stats.rejectedTotal, 0);
      const res = await fetch(
        `http://127.0.0.1:${cp.info.http.port}/api/v1/devices/${device}/cameras/cam-1/detections?limit=5`,
        { headers: { authorization: `Bearer ${cp.adminToken}` } },
      );
      const body = (await res.json()) as { detections: { seq: number }[] };
      assert.deepEqual(
        body.detections.map((d) => d.seq),
        [600, 599, 598, 597, 596],
      );
    });

    test('image statistics are stored with their frames; frames without them (older agents) are stored without', async (tc) => {
      const t = lifo(tc);
      const { store } = await openTestStore(t, kind);
      const cp = await startControlPlane(t, store);
      const device = uniqueId('dev');
      const client = await connectDevice(t, cp, device);
      const batch = makeBatch(device, 'cam-1', { firstFrameSeq: 1, frames: 2, perFrame: 1 });
      // Values exact in float32, so what is read back equals what was sent.
      const imageStats = {
        brightness: 0.5,
        contrast: 0.25,
        sharpness: 0.0625,
        saturation: 0.75,
        lumaGrid: Array(16).fill(0.5),
      };
      const withStats = { ...batch, frames: [{ ...batch.frames[0]!, imageStats }, batch.frames[1]!] };
      await publishAcked(client, detectionsTopic(device), encodeDetectionBatch(withStats));
      const stored = await store.recentFrames(device, 'cam-1', 10);
      assert.deepEqual(
        stored.map((f) => [f.frameSeq, f.imageStats]),
        [
          [2, undefined],
          [1, imageStats],
        ],
      );
    });

    test('redelivered batches have no effect: each row exactly once, the repeats counted as duplicates', async (tc) => {
      const t = lifo(tc);
      const { store } = await openTestStore(t, kind);
      const cp = await startControlPlane(t, store);
      const device = uniqueId('dev');
      const client = await connectDevice(t, cp, device);
      const batches = encodedBatches(device, 'cam-1', 5, 4, 2);
      for (const b of batches) await publishAcked(client, detectionsTopic(device), b);
      // As after a reconnect: the agent sends the unacknowledged tail again, and one batch twice more.
      for (const b of [...batches.slice(2), batches[0] as Buffer, batches[0] as Buffer])
        await publishAcked(client, detectionsTopic(device), b);
      assert.equal(await store.countFrames({ deviceId: device }), 20);
      assert.equal(await store.countDetections({ deviceId: device }), 40);
      const stats = cp.stats.snapshot();
      assert.equal(stats.stored.detections, 10);
      assert.equal(stats.insertedFrames + stats.insertedDetections, 60);
      assert.equal(stats.duplicateRows, 5 * 12);
    });

    test('status reports and the last will keep the device record: online, then offline when the connection dies', async (tc) => {
      const t = lifo(tc);
      const { store } = await openTestStore(t, kind);
      const cp = await startControlPlane(t, store);
      const device = uniqueId('dev');
      const client = await connectDevice(t, cp, device, {
        will: {
          topic: statusTopic(device),
          payload: Buffer.from(encodeDeviceStatus(status(device, false))),
          qos: 1,
          retain: true,
        },
      });
      const camera = {
        cameraId: 'gate',
        state: 'reconnecting',
        lastError: 'RTSP 401',
        lastErrorAtMs: Date.now(),
        restarts: 2,
        framesCaptured: 10,
        framesDropped: 0,
        framesProcessed: 10,
        fps: 0,
        modelId: 'm',
        modelVersion: '1',
        provider: 'cpu',
      } as const;
      await publishAcked(
        client,
        statusTopic(device),
        encodeDeviceStatus({ ...status(device, true), cameras: [camera] }),
        { retain: true },
      );
      let record = await store.getDevice(device);
      assert.equal(record?.online, true);
      assert.equal((record?.status as { agentVersion?: string } | undefined)?.agentVersion, '0.1.0');
      // The registry learns the agent and its cameras from the report.
      assert.deepEqual([record?.agentVersion, record?.hardware, record?.providers], ['0.1.0', 'test', ['cpu']]);
      const cam = await store.registry.getCamera(device, 'gate');
      assert.deepEqual([cam?.status, cam?.lastError], ['reconnecting', 'RTSP 401']);
      client.publish(
        metricsTopic(device),
        Buffer.from(
          encodeDeviceMetrics({
            deviceId: device,
            reportedAtMs: Date.now(),
            cameras: [],
            outboxFrames: 1,
            outboxDetections: 2,
            syncLagMs: 3,
            publishedBatches: 4,
          }),
        ),
      );
      await waitFor(
        'metrics stored',
        async () =>
          ((await store.getDevice(device))?.metrics as { publishedBatches?: number } | null)?.publishedBatches === 4,
      );
      // A dead connection (no DISCONNECT): the broker publishes the will.
      (client as unknown as { stream: { destroy(): void } }).stream.destroy();
      await waitFor('will processed', async () => (await store.getDevice(device))?.online === false);
      record = await store.getDevice(device);
      assert.equal(record?.enrolled, true);
      assert.equal(
        (await store.registry.getCamera(device, 'gate'))?.status,
        'reconnecting',
        'the will lists no cameras and changes none',
      );
      assert.equal(cp.stats.snapshot().stored.status, 2);
    });
  });
}

test('ingest through the embedded broker (postgres): while the database fails, nothing is acknowledged; after it recovers, everything is stored once', async (tc) => {
  const t = lifo(tc);
  const { store, url } = await openTestStore(t, 'postgres');
  const cp = await startControlPlane(t, store, { ingest: { retryMaxDelayMs: 100 } });
  const device = uniqueId('dev');
  const client = await connectDevice(t, cp, device);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  t.after(() => admin.end());
  // Every insert fails (undefined table, a non-data error) until the table is back.
  await admin.query('ALTER TABLE detections RENAME TO detections_away');
  let acked = 0;
  const batches = encodedBatches(device, 'cam-1', 4, 5, 2);
  const published = Promise.all(
    batches.map((b) => publishAcked(client, detectionsTopic(device), b).then(() => acked++)),
  );
  await waitFor('flush retries', () => cp.stats.snapshot().flushRetries >= 2);
  assert.equal(acked, 0, 'no PUBACK while the rows are not committed');
  await admin.query('ALTER TABLE detections_away RENAME TO detections');
  await published;
  assert.equal(acked, 4);
  assert.equal(await store.countDetections({ deviceId: device }), 40);
  assert.equal(await store.countFrames({ deviceId: device }), 20);
  assert.equal(cp.stats.snapshot().rejectedTotal, 0);
});
