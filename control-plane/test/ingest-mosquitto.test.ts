import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { detectionsTopic, encodeDeviceStatus, statusTopic } from '@edgefleet/proto';
import { ControlPlane } from '../src/server/control-plane.js';
import { parseControlPlaneConfig } from '../src/config/load-control-plane-config.js';
import { silentLogger } from '@edgefleet/service-kit';
import type { ControlPlaneConfigInput } from '../src/config/control-plane-config-schema.js';
import type { Store } from '../src/storage/store.js';
import {
  STORE_KINDS,
  connectClient,
  encodedBatches,
  lifo,
  openTestStore,
  publishAcked,
  uniqueId,
  waitFor,
} from './ingest-test-kit.js';
import { tempDir } from '@edgefleet/service-kit/testing';

/**
 * The same ingest through a real external MQTT 5 broker (Mosquitto; CP_TEST_MQTT_URL, default
 * mqtt://127.0.0.1:1883, anonymous). Each run uses its own topic prefix, shared group and client ids,
 * and short session expiry so nothing lingers on the broker.
 */
const MQTT_URL = process.env.CP_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

type After = { after: (fn: () => void | Promise<void>) => void };

function externalConfig(t: After, run: string, replica: string, extra: ControlPlaneConfigInput = {}) {
  return parseControlPlaneConfig({
    dataDir: tempDir(t as { after: (fn: () => void) => void }),
    ...extra,
    mqtt: {
      mode: 'external',
      url: MQTT_URL,
      topicPrefix: `${run}/fleet/v1`,
      sharedGroup: `ingest-${run}`,
      clientId: `cp-${run}-${replica}`,
      connections: 2,
      sessionExpirySeconds: 5,
    },
    http: { host: '127.0.0.1', port: 0 },
    grpc: { host: '127.0.0.1', port: 0 },
  });
}

async function startExternal(
  t: After,
  run: string,
  replica: string,
  store: Store | null,
  extra: ControlPlaneConfigInput = {},
): Promise<ControlPlane> {
  const cp = new ControlPlane(externalConfig(t, run, replica, extra), {
    logger: silentLogger,
    ...(store ? { store } : {}),
  });
  await cp.start();
  t.after(() => cp.stop());
  return cp;
}

async function device(t: After, id: string) {
  return connectClient(t, MQTT_URL, { protocolVersion: 5, clientId: `edge-${id}` });
}

for (const kind of STORE_KINDS) {
  describe(`ingest through Mosquitto (${kind})`, () => {
    test('batches, redeliveries, retained status and malformed payloads flow through an external broker exactly once', async (tc) => {
      const t = lifo(tc);
      const { store } = await openTestStore(t, kind);
      const run = uniqueId('cpt');
      const prefix = `${run}/fleet/v1`;
      const dev = uniqueId('dev');
      const client = await device(t, dev);
      // Retained before the control plane exists: it must still learn the device's state.
      const status = encodeDeviceStatus({
        deviceId: dev,
        online: true,
        agentVersion: '0.1.0',
        startedAtMs: Date.now(),
        reportedAtMs: Date.now(),
        cameras: [],
        outboxFrames: 0,
        outboxDetections: 0,
        outboxEvictedDetections: 0,
        syncLagMs: 0,
        hardware: 'test',
        providers: [],
      });
      await publishAcked(client, statusTopic(dev, prefix), status, { retain: true });
      t.after(() => publishAcked(client, statusTopic(dev, prefix), Buffer.alloc(0), { retain: true }));
      const cp = await startExternal(t, run, 'a', store);
      await waitFor('retained status', async () => (await store.getDevice(dev))?.online === true);

      const batches = encodedBatches(dev, 'cam-1', 30, 10, 3);
      await Promise.all(batches.map((b) => publishAcked(client, detectionsTopic(dev, prefix), b)));
      await waitFor('900 detections', async () => (await store.countDetections({ deviceId: dev })) === 900);
      // Redeliveries: the first ten again.
      await Promise.all(batches.slice(0, 10).map((b) => publishAcked(client, detectionsTopic(dev, prefix), b)));
      await waitFor('redeliveries handled', () => cp.stats.snapshot().stored.detections === 40);
      // Malformed payloads are acknowledged too (or the broker would hold them forever) and counted.
      const junk = Array.from({ length: 2000 }, (_, i) => Buffer.from(`not a batch ${i}`));
      await Promise.all(junk.map((j) => publishAcked(client, detectionsTopic(dev, prefix), j)));
      await waitFor('junk counted', () => cp.stats.snapshot().rejectedTotal === 2000);

      const stats = cp.stats.snapshot();
      assert.equal(stats.received.detections, 2040);
      assert.equal(stats.insertedDetections, 900);
      assert.equal(stats.insertedFrames, 300);
      assert.equal(stats.duplicateRows, 10 * 40);
      assert.equal(await store.countDetections({ deviceId: dev }), 900);
      assert.equal(await store.countFrames({ deviceId: dev }), 300);
    });

    test('two ingest replicas in one shared subscription split the messages: disjoint, complete, no duplicate rows', async (tc) => {
      const t = lifo(tc);
      const { store, url } = await openTestStore(t, kind);
      const run = uniqueId('cpt');
      const prefix = `${run}/fleet/v1`;
      // PostgreSQL: two independent replicas on one database. PGlite is in-process, so the two replicas share the store object.
      const a = await startExternal(
        t,
        run,
        'a',
        kind === 'pglite' ? store : null,
        kind === 'postgres' ? { databaseUrl: url } : {},
      );
      const b = await startExternal(
        t,
        run,
        'b',
        kind === 'pglite' ? store : null,
        kind === 'postgres' ? { databaseUrl: url } : {},
      );
      const devices = [uniqueId('dev'), uniqueId('dev'), uniqueId('dev')];
      const messages = 3 * 60;
      await Promise.all(
        devices.map(async (id) => {
          const client = await device(t, id);
          const batches = encodedBatches(id, 'cam-1', 60, 5, 4);
          await Promise.all(batches.map((p) => publishAcked(client, detectionsTopic(id, prefix), p)));
        }),
      );
      await waitFor('every row', async () => (await store.countDetections()) === 3 * 60 * 20);
      const sa = a.stats.snapshot();
      const sb = b.stats.snapshot();
      assert.equal(
        sa.received.detections + sb.received.detections,
        messages,
        'each message went to exactly one replica',
      );
      assert.ok(
        sa.received.detections > 0 && sb.received.detections > 0,
        `both replicas took a share (${sa.received.detections} / ${sb.received.detections})`,
      );
      assert.equal(sa.insertedDetections + sb.insertedDetections, 3 * 60 * 20);
      assert.equal(sa.duplicateRows + sb.duplicateRows, 0);
      for (const id of devices) {
        assert.equal(await store.countDetections({ deviceId: id }), 60 * 20);
        assert.equal(await store.countFrames({ deviceId: id }), 60 * 5);
      }
    });
  });
}

test('ingest through Mosquitto (postgres): messages not yet committed when a replica stops are redelivered to it after its restart', async (tc) => {
  const t = lifo(tc);
  const { store, url } = await openTestStore(t, 'postgres');
  const run = uniqueId('cpt');
  const prefix = `${run}/fleet/v1`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  t.after(() => admin.end());
  const extra: ControlPlaneConfigInput = { ingest: { retryMaxDelayMs: 100, drainTimeoutMs: 200 } };
  const first = new ControlPlane(externalConfig(t, run, 'a', extra), { logger: silentLogger, store });
  await first.start();
  await admin.query('ALTER TABLE detections RENAME TO detections_away');
  const dev = uniqueId('dev');
  const client = await device(t, dev);
  const batches = encodedBatches(dev, 'cam-1', 10, 4, 2);
  // Mosquitto acknowledges to the device; the ingest cannot commit, so it acknowledges nothing.
  await Promise.all(batches.map((b) => publishAcked(client, detectionsTopic(dev, prefix), b)));
  await waitFor('flush retries', () => first.stats.snapshot().flushRetries >= 2);
  await first.stop();
  assert.equal(first.stats.snapshot().stored.detections, 0);
  assert.ok(first.stats.snapshot().abandoned >= 1);
  await admin.query('ALTER TABLE detections_away RENAME TO detections');
  // Same client ids: the broker resumes the sessions and sends the unacknowledged messages again.
  const second = await startExternal(t, run, 'a', store, extra);
  await waitFor('every row after the restart', async () => (await store.countDetections({ deviceId: dev })) === 80);
  assert.equal(await store.countFrames({ deviceId: dev }), 40);
  assert.equal(second.stats.snapshot().rejectedTotal, 0);
});
