import { systemClock } from '@edgefleet/service-kit';
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { MqttSyncWorker } from '../src/sync/mqtt-sync-worker.js';
import type { MqttSyncSettings } from '../src/sync/sync-options.js';
import { silentLogger } from '@edgefleet/service-kit';
import {
  DEVICE,
  MosquittoProcess,
  RawSubscriber,
  Received,
  TcpProxy,
  freePort,
  openOutbox,
  retainedStatus,
  sharedMosquitto,
  uniquePrefix,
  waitUntil,
  type TestOutbox,
} from './sync-harness.js';

/**
 * The same guarantees against a real MQTT 5 broker (Mosquitto): the shared one at 127.0.0.1:1883 for the
 * plain path, and a Mosquitto process of our own where the broker gets killed. A TCP proxy in front of the
 * broker plays the network: it cuts the worker's connection or keeps it out while the test gets ready.
 *
 * Why the subscriber must be back before the worker: a broker acknowledges a QoS 1 publish once it has
 * taken it, and drops it if nobody subscribes. Production ingests keep a subscription (or a persistent
 * session); here the test orders the reconnects with the proxy instead.
 */

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const undo of cleanups.splice(0).reverse()) await undo();
});

function outbox(): TestOutbox {
  const o = openOutbox();
  cleanups.push(() => o.cleanup());
  return o;
}

async function proxy(port: number): Promise<TcpProxy> {
  const p = await TcpProxy.start(port);
  cleanups.push(() => p.close());
  return p;
}

async function subscriber(url: string, prefix: string, received?: Received): Promise<RawSubscriber> {
  const s = await RawSubscriber.connect(url, prefix, 5, received);
  cleanups.push(() => s.close());
  return s;
}

function worker(o: TestOutbox, settings: MqttSyncSettings): MqttSyncWorker {
  const w = new MqttSyncWorker({
    outbox: o.outbox,
    deviceId: DEVICE,
    logger: silentLogger,
    settings,
    clock: systemClock,
  });
  cleanups.push(() => w.stop());
  return w;
}

function portOf(url: string): number {
  return Number(new URL(url).port || 1883);
}

describe('MQTT sync worker against Mosquitto (MQTT 5)', () => {
  it('delivers every row in per-camera order over MQTT 5 and empties the outbox', async () => {
    const broker = await sharedMosquitto();
    cleanups.push(() => broker.cleanup());
    const prefix = uniquePrefix();
    const o = outbox();
    const sub = await subscriber(broker.url, prefix);
    const keys = o.fill(['front', 'back'], 300, 6);
    const w = worker(o, { url: broker.url, topicPrefix: prefix, batchMaxFrames: 40, inFlightWindow: 8 });
    await w.start();
    await waitUntil(
      () => sub.received.hasAll(keys) && o.outbox.stats().frames === 0,
      'every detection delivered and acknowledged',
    );
    assert.equal(w.stats().protocol, 'mqtt5');
    assert.equal(sub.received.duplicates, 0);
    for (const [camera, seqs] of sub.received.order)
      assert.deepEqual(
        seqs,
        [...seqs].sort((x, y) => x - y),
        `camera ${camera} in order`,
      );
    assert.equal((await retainedStatus(broker.url, prefix, 5))?.online, true);
  });

  it('leaves online=false retained through the last will when the network is cut', async () => {
    const broker = await sharedMosquitto();
    cleanups.push(() => broker.cleanup());
    const prefix = uniquePrefix();
    const net = await proxy(portOf(broker.url));
    const o = outbox();
    const w = worker(o, { url: net.url, topicPrefix: prefix, reconnectMinMs: 60_000, reconnectMaxMs: 60_000 });
    await w.start();
    await waitUntil(() => w.stats().state === 'connected', 'the connection');
    const sub = await subscriber(broker.url, prefix);
    await waitUntil(() => sub.statuses.some((s) => s.status.online && s.retain), 'the retained online status');
    net.cut();
    await waitUntil(() => sub.statuses.some((s) => !s.status.online), 'the last will');
    const retained = await retainedStatus(broker.url, prefix, 5);
    assert.equal(retained?.online, false);
    assert.equal(retained?.deviceId, DEVICE);
  });

  it('loses nothing when the network is cut mid-stream (at least once)', async () => {
    const broker = await sharedMosquitto();
    cleanups.push(() => broker.cleanup());
    const prefix = uniquePrefix();
    const net = await proxy(portOf(broker.url));
    const o = outbox();
    const sub = await subscriber(broker.url, prefix);
    const keys = o.fill(['front', 'back'], 400, 3);
    const w = worker(o, {
      url: net.url,
      topicPrefix: prefix,
      batchMaxFrames: 4,
      inFlightWindow: 4,
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
    });
    let cuts = 0;
    sub.onBatch = (n) => {
      if (n === 30 || n === 90) {
        cuts++;
        net.cut();
      }
    };
    await w.start();
    await waitUntil(() => o.outbox.stats().frames === 0, 'the outbox to empty');
    await waitUntil(() => sub.received.hasAll(keys), 'every detection at the subscriber');
    assert.equal(cuts, 2);
    assert.ok(w.stats().connects >= 3, `reconnected after each cut (${w.stats().connects} connections)`);
  });

  it('loses nothing when Mosquitto is killed (-9) mid-stream and restarted on the same port', async () => {
    const port = await freePort();
    let mosquitto = await MosquittoProcess.start(port);
    cleanups.push(() => mosquitto.cleanup());
    const prefix = uniquePrefix();
    const net = await proxy(port);
    const o = outbox();
    const received = new Received();
    const sub = await subscriber(mosquitto.url, prefix, received);
    const keys = o.fill(['front', 'back'], 400, 3);
    // One batch in flight at a time: whatever Mosquitto acknowledged it has also written to the subscriber.
    const w = worker(o, {
      url: net.url,
      topicPrefix: prefix,
      batchMaxFrames: 4,
      inFlightWindow: 1,
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
    });
    let killed: Promise<void> | null = null;
    sub.onBatch = (n) => {
      if (n === 40 && !killed) {
        net.block();
        killed = mosquitto.kill();
      }
    };
    await w.start();
    await waitUntil(() => killed !== null, 'the kill');
    await killed;
    await waitUntil(() => w.stats().state !== 'connected', 'the worker to notice');
    const left = o.outbox.stats().frames;
    assert.ok(left > 0, 'killed before the outbox was drained');

    mosquitto.cleanup();
    mosquitto = await MosquittoProcess.start(port);
    await subscriber(mosquitto.url, prefix, received);
    net.unblock();
    await waitUntil(() => o.outbox.stats().frames === 0, 'the outbox to empty through the restarted broker');
    await waitUntil(() => received.hasAll(keys), 'every detection at the subscriber');
    assert.ok(w.stats().reconnects >= 1);
  });
});
