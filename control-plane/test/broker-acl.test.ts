import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import { encodeDetectionBatch } from '@edgefleet/proto';
import {
  STORE_KINDS,
  connectClient,
  connectDevice,
  detectionsTopic,
  enrolOverHttp,
  lifo,
  makeBatch,
  openTestStore,
  publishAcked,
  startControlPlane,
  uniqueId,
} from './ingest-test-kit.js';

const SERVICE = { username: 'svc:observer', password: 'observer-password-0123456789' };

/** The SUBACK return code of one filter (MQTT.js reports a failure code as an error carrying the SUBACK). */
function subscribeGranted(client: MqttClient, filter: string): Promise<number> {
  return new Promise((resolve, reject) =>
    client.subscribe(filter, { qos: 1 }, (err, granted) => {
      const suback = (err as { packet?: { granted?: number[] } } | null)?.packet;
      if (suback?.granted) resolve(suback.granted[0] as number);
      else if (err) reject(err);
      else resolve((granted?.[0]?.qos ?? -1) as number);
    }),
  );
}

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.once('close', () => resolve()));
}

for (const kind of STORE_KINDS) {
  describe(`embedded broker ACL (${kind})`, () => {
    test('connections without valid device credentials are refused', async (tc) => {
      const t = lifo(tc);
      const { store } = await openTestStore(t, kind);
      const cp = await startControlPlane(t, store);
      const url = `mqtt://127.0.0.1:${cp.info.mqtt.port}`;
      const device = uniqueId('dev');
      const creds = await enrolOverHttp(cp, device);
      await assert.rejects(
        connectClient(t, url, { protocolVersion: 4, clientId: `edge-${device}` }),
        /Not authorized|Bad username or password/i,
      );
      await assert.rejects(
        connectClient(t, url, { protocolVersion: 4, clientId: `edge-${device}`, username: device, password: 'wrong' }),
        /Bad username or password/i,
      );
      await assert.rejects(
        connectClient(t, url, {
          protocolVersion: 4,
          clientId: 'edge-nobody',
          username: 'nobody',
          password: creds.password,
        }),
        /Bad username or password/i,
      );
      // Right password, someone else's client id: refused, so no device can take over another's session.
      await assert.rejects(
        connectClient(t, url, {
          protocolVersion: 4,
          clientId: 'edge-other',
          username: device,
          password: creds.password,
        }),
        /Identifier rejected/i,
      );
      await connectClient(t, url, {
        protocolVersion: 4,
        clientId: `edge-${device}`,
        username: device,
        password: creds.password,
      });
    });

    test("device A cannot publish under device B's prefix: disconnected, nothing stored, nothing forwarded", async (tc) => {
      const t = lifo(tc);
      const { store } = await openTestStore(t, kind);
      const cp = await startControlPlane(t, store, { mqtt: { serviceAccounts: [SERVICE] } });
      const a = uniqueId('dev-a');
      const b = uniqueId('dev-b');
      const deviceA = await connectDevice(t, cp, a);
      await enrolOverHttp(cp, b);
      const observer = await connectClient(t, `mqtt://127.0.0.1:${cp.info.mqtt.port}`, {
        protocolVersion: 4,
        clientId: 'observer',
        ...SERVICE,
      });
      const seen: string[] = [];
      observer.on('message', (topic) => seen.push(topic));
      assert.equal(await subscribeGranted(observer, 'fleet/v1/+/detections'), 1);
      // A forged batch: B's topic and B's device id in the payload, sent by A.
      const forged = encodeDetectionBatch(makeBatch(b, 'cam-1', { firstFrameSeq: 1, frames: 2, perFrame: 2 }));
      const gone = closed(deviceA);
      deviceA.publish(detectionsTopic(b), Buffer.from(forged), { qos: 1 });
      await gone;
      // A's own publish still works on a new connection, and is seen by the observer: the path is live.
      const again = await connectClient(t, `mqtt://127.0.0.1:${cp.info.mqtt.port}`, {
        protocolVersion: 4,
        clientId: `edge-${a}`,
        username: a,
        password: (await enrolRotate(cp, a)).password,
      });
      await publishAcked(
        again,
        detectionsTopic(a),
        encodeDetectionBatch(makeBatch(a, 'cam-1', { firstFrameSeq: 1, frames: 1, perFrame: 1 })),
      );
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(seen, [detectionsTopic(a)]);
      assert.equal(await store.countDetections({ deviceId: b }), 0);
      assert.equal(await store.countDetections({ deviceId: a }), 1);
      assert.equal(cp.stats.snapshot().received.detections, 1, 'the forged message never reached the ingest');
    });

    test("device A cannot subscribe to other devices' topics (SUBACK failure), only to its own subtree", async (tc) => {
      const t = lifo(tc);
      const { store } = await openTestStore(t, kind);
      const cp = await startControlPlane(t, store);
      const a = uniqueId('dev-a');
      const b = uniqueId('dev-b');
      const deviceA = await connectDevice(t, cp, a);
      for (const filter of [
        `fleet/v1/${b}/detections`,
        `fleet/v1/${b}/#`,
        'fleet/v1/+/detections',
        'fleet/v1/#',
        '#',
        '$SYS/#',
        `fleet/v1/${a}x/#`,
      ]) {
        assert.equal(await subscribeGranted(deviceA, filter), 128, filter); // [MQTT-3.9.3] 0x80 failure
      }
      assert.equal(await subscribeGranted(deviceA, `fleet/v1/${a}/#`), 1);
      assert.equal(await subscribeGranted(deviceA, `fleet/v1/${a}/commands`), 1);
      assert.equal(deviceA.connected, true, 'a refused subscription does not end the connection');
    });
  });
}

/** Rotates a device's password over the REST API (the first one was only shown once, to the first connection). */
async function enrolRotate(
  cp: { info: { http: { port: number } }; adminToken: string | null },
  deviceId: string,
): Promise<{ password: string }> {
  const res = await fetch(`http://127.0.0.1:${cp.info.http.port}/api/v1/devices`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${cp.adminToken}` },
    body: JSON.stringify({ deviceId, rotate: true }),
  });
  assert.equal(res.status, 201);
  return (await res.json()) as { password: string };
}
