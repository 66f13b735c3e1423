import { systemClock } from '@edgefleet/service-kit';
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { PublishPacket } from 'aedes';
import { decodeDetectionBatch, decodeDeviceMetrics } from '@edgefleet/proto';
import { MqttSyncWorker, type MqttSyncWorkerDeps } from '../src/sync/mqtt-sync-worker.js';
import type { MqttSyncSettings } from '../src/sync/sync-options.js';
import { silentLogger } from '@edgefleet/service-kit';
import type { Outbox, OutboxFrame } from '../src/outbox/outbox.js';
import {
  AedesBroker,
  DEVICE,
  RawSubscriber,
  Received,
  frame,
  freePort,
  memoryLogger,
  openOutbox,
  retainedStatus,
  sleep,
  uniquePrefix,
  waitUntil,
  type TestOutbox,
} from './sync-harness.js';

/** Everything a test started, undone in reverse order even when an assertion failed. */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const undo of cleanups.splice(0).reverse()) await undo();
});

function outbox(): TestOutbox {
  const o = openOutbox();
  cleanups.push(() => o.cleanup());
  return o;
}

async function broker(options: Parameters<typeof AedesBroker.start>[0] = {}, port = 0): Promise<AedesBroker> {
  const b = await AedesBroker.start(options, port);
  cleanups.push(() => b.kill());
  return b;
}

async function subscriber(url: string, prefix: string): Promise<RawSubscriber> {
  const s = await RawSubscriber.connect(url, prefix);
  cleanups.push(() => s.close());
  return s;
}

function worker(o: TestOutbox, settings: MqttSyncSettings, extra: Partial<MqttSyncWorkerDeps> = {}): MqttSyncWorker {
  const w = new MqttSyncWorker({
    outbox: o.outbox,
    deviceId: DEVICE,
    logger: silentLogger,
    settings,
    clock: systemClock,
    ...extra,
  });
  // Registered after the outbox, so it stops before the outbox closes.
  cleanups.push(() => w.stop());
  return w;
}

const isDetections = (packet: PublishPacket) => packet.topic.endsWith('/detections');

describe('MQTT sync worker against an in-process aedes broker', () => {
  it('publishes every row once, in per-camera order, and deletes rows only after their PUBACK', async () => {
    const o = outbox();
    const b = await broker();
    const prefix = uniquePrefix();
    const sub = await subscriber(b.url, prefix);
    const keys = o.fill(['front', 'back', 'side'], 200, 5);
    const totalFrames = o.outbox.stats().frames;
    const w = worker(o, { url: b.url, topicPrefix: prefix, batchMaxFrames: 50, inFlightWindow: 4 });
    await w.start();
    await waitUntil(() => sub.received.hasAll(keys), 'every detection at the subscriber');
    await waitUntil(() => o.outbox.stats().frames === 0, 'the outbox to empty');

    assert.equal(sub.received.duplicates, 0, 'one connection, no re-sends: no duplicates');
    assert.equal(sub.received.counts.size, keys.length);
    // Empty frames travel too.
    assert.equal(sub.received.frames.size, totalFrames);
    for (const [camera, seqs] of sub.received.order) {
      assert.deepEqual(
        seqs,
        [...seqs].sort((x, y) => x - y),
        `camera ${camera} arrived in sequence order`,
      );
    }
    assert.ok(sub.received.batches.every((batch) => batch.frames.length <= 50));
    const stats = w.stats();
    assert.equal(stats.state, 'connected');
    assert.equal(stats.protocol, 'mqtt311', 'aedes speaks MQTT 3.1.1: protocol auto fell back');
    assert.equal(stats.ackedDetections, keys.length);
    assert.equal(stats.ackedFrames, totalFrames);
    assert.equal(stats.outboxFrames, 0);
    assert.equal(stats.syncLagMs, 0);
    assert.equal(stats.reconnects, 0);
  });

  it('keeps at most inFlightWindow batches unacknowledged', async () => {
    const o = outbox();
    const window = 3;
    let outstanding = 0;
    let maxOutstanding = 0;
    // The broker answers each detections publish 20 ms late, so the worker always runs into its window.
    const b = await broker({
      authorizePublish: (_client, packet, done) => {
        if (!isDetections(packet)) return done(null);
        outstanding++;
        maxOutstanding = Math.max(maxOutstanding, outstanding);
        setTimeout(() => {
          outstanding--;
          done(null);
        }, 20);
      },
    });
    const keys = o.fill(['cam'], 120, 2);
    const w = worker(o, { url: b.url, topicPrefix: uniquePrefix(), batchMaxFrames: 5, inFlightWindow: window });
    await w.start();
    await waitUntil(() => o.outbox.stats().frames === 0, 'the outbox to empty');
    assert.equal(w.stats().ackedDetections, keys.length);
    assert.equal(maxOutstanding, window, `the window was filled but never exceeded (max ${maxOutstanding})`);
  });

  it('does not delete rows whose PUBACK never comes', async () => {
    const o = outbox();
    const held: Array<() => void> = [];
    const b = await broker({
      authorizePublish: (_client, packet, done) => (isDetections(packet) ? held.push(() => done(null)) : done(null)),
    });
    o.fill(['cam'], 40, 3);
    const before = o.outbox.stats();
    const w = worker(o, {
      url: b.url,
      topicPrefix: uniquePrefix(),
      batchMaxFrames: 4,
      inFlightWindow: 2,
      drainTimeoutMs: 100,
    });
    await w.start();
    await waitUntil(() => held.length === 2, 'two batches at the broker');
    await sleep(300);
    assert.equal(held.length, 2, 'no publish beyond the window while PUBACKs are missing');
    assert.deepEqual(o.outbox.stats(), before, 'nothing deleted without PUBACK');
    assert.equal(w.stats().inFlightBatches, 2);
    await w.stop();
    assert.deepEqual(o.outbox.stats(), before, 'nothing deleted on stop either');
  });

  it('keeps the rows when the broker drops the connection instead of acknowledging, and sends them on the next connection', async () => {
    const o = outbox();
    let refusals = 2;
    const seen = new Received();
    const b = await broker({
      authorizePublish: (_client, packet, done) => {
        if (!isDetections(packet)) return done(null);
        // An error from authorizePublish makes aedes close the connection without a PUBACK (MQTT 3.1.1).
        if (refusals > 0) {
          refusals--;
          return done(new Error('not now'));
        }
        seen.add(packet.payload as Buffer);
        done(null);
      },
    });
    const keys = o.fill(['cam'], 30, 2);
    const w = worker(o, {
      url: b.url,
      topicPrefix: uniquePrefix(),
      batchMaxFrames: 10,
      inFlightWindow: 1,
      reconnectMinMs: 20,
      reconnectMaxMs: 50,
    });
    await w.start();
    await waitUntil(() => o.outbox.stats().frames === 0, 'the outbox to empty');
    assert.deepEqual(seen.missing(keys), []);
    const stats = w.stats();
    assert.ok(stats.reconnects >= 2, `reconnected after each drop (${stats.reconnects})`);
    assert.equal(stats.ackedDetections, keys.length);
  });

  it('survives a broker crash mid-stream: reconnects with backoff, nothing lost, appends continue while offline', async () => {
    const o = outbox();
    const prefix = uniquePrefix();
    const seen = new Received();
    let acked = 0;
    let midStream: () => void = () => {};
    const reachedMidStream = new Promise<void>((resolve) => (midStream = resolve));
    // Slow first broker (20 ms per PUBACK, 30 batches) so the crash lands mid-stream.
    const first = await broker({
      authorizePublish: (_client, packet, done) => {
        if (!isDetections(packet)) return done(null);
        seen.add(packet.payload as Buffer);
        setTimeout(() => {
          if (++acked === 5) midStream();
          done(null);
        }, 20);
      },
    });
    const port = first.port;
    const keys = o.fill(['front', 'back'], 150, 4);
    const w = worker(o, {
      url: first.url,
      topicPrefix: prefix,
      batchMaxFrames: 10,
      inFlightWindow: 4,
      reconnectMinMs: 50,
      reconnectMaxMs: 400,
    });
    await w.start();
    await reachedMidStream;
    await first.kill();
    const framesAtCrash = o.outbox.stats().frames;
    assert.ok(framesAtCrash > 0, 'the crash came before the outbox was drained');

    // Detection goes on while the broker is gone.
    await waitUntil(() => w.stats().state !== 'connected', 'the worker to notice');
    const offlineKeys = o.fill(['front', 'back'], 20, 3);
    assert.equal(o.outbox.stats().frames, framesAtCrash + 40);
    await sleep(300);
    const offline = w.stats();
    assert.ok(offline.lastError !== null, 'the connection failure is reported');
    assert.ok(offline.syncLagMs > 0, 'sync lag grows while offline');
    assert.equal(offline.outboxFrames, framesAtCrash + 40);

    const second = await broker(
      {
        authorizePublish: (_client, packet, done) => {
          if (isDetections(packet)) seen.add(packet.payload as Buffer);
          done(null);
        },
      },
      port,
    );
    assert.equal(second.port, port);
    await waitUntil(() => o.outbox.stats().frames === 0, 'the outbox to empty through the restarted broker');
    assert.deepEqual(seen.missing([...keys, ...offlineKeys]), [], 'every (camera, seq) arrived at least once');
    const stats = w.stats();
    assert.ok(stats.reconnects >= 1);
    assert.equal(stats.connects, 2);
  });

  it('connects once a broker appears, with growing backoff delays until then', async () => {
    const o = outbox();
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const log = memoryLogger();
    const keys = o.fill(['cam'], 10, 1);
    const w = worker(
      o,
      { url, topicPrefix: uniquePrefix(), reconnectMinMs: 20, reconnectMaxMs: 80 },
      // No jitter, so the delays are exactly min × 2^n capped at max.
      { logger: log, random: () => 0.5 },
    );
    await w.start();
    await waitUntil(() => w.stats().reconnects >= 4, 'several failed attempts');
    const delays = log.lines.filter((l) => l.msg === 'sync reconnecting').map((l) => l.fields.inMs);
    // Four reconnects were counted, so four waits were logged: an empty list means the log line is gone.
    assert.ok(delays.length >= 4, `expected a 'sync reconnecting' line per wait, saw ${delays.length}`);
    assert.deepEqual(delays.slice(0, 4), [20, 40, 80, 80]);
    assert.match(w.stats().lastError ?? '', /ECONNREFUSED/);
    const b = await broker({}, port);
    const seen = new Received();
    b.broker.on('publish', (packet) => {
      if (isDetections(packet)) seen.add(packet.payload as Buffer);
    });
    await waitUntil(() => o.outbox.stats().frames === 0, 'the outbox to empty');
    assert.deepEqual(seen.missing(keys), []);
  });

  it('leaves a retained online=false status as its last will when the connection dies', async () => {
    const o = outbox();
    const prefix = uniquePrefix();
    const b = await broker();
    const sub = await subscriber(b.url, prefix);
    const w = worker(o, {
      url: b.url,
      topicPrefix: prefix,
      clientId: 'will-test',
      reconnectMinMs: 60_000,
      reconnectMaxMs: 60_000,
    });
    await w.start();
    await waitUntil(() => sub.statuses.some((s) => s.status.online), 'the online status');
    assert.equal((await retainedStatus(b.url, prefix))?.online, true, 'online status is retained');

    // Abrupt end: the socket is destroyed, no DISCONNECT.
    const client = b.client('will-test');
    assert.ok(client, 'the worker is connected as will-test');
    client.conn.destroy();
    await waitUntil(() => sub.statuses.some((s) => !s.status.online), 'the last will');
    const will = sub.statuses.find((s) => !s.status.online)!.status;
    assert.equal(will.deviceId, DEVICE);
    const retained = await retainedStatus(b.url, prefix);
    assert.equal(retained?.online, false, 'the will is retained for later subscribers');
  });

  it('publishes online status with the agent report and metrics, and online=false on a clean stop', async () => {
    const o = outbox();
    const prefix = uniquePrefix();
    const b = await broker();
    const sub = await subscriber(b.url, prefix);
    o.fill(['front'], 3, 1);
    const hold: Array<() => void> = [];
    // Hold back PUBACKs for detections so the outbox depth and lag are visible in status and metrics.
    b.broker.authorizePublish = (_client, packet, done) =>
      isDetections(packet) ? hold.push(() => done(null)) : done(null);
    const w = worker(
      o,
      { url: b.url, topicPrefix: prefix, statusIntervalMs: 50, metricsIntervalMs: 50, drainTimeoutMs: 50 },
      {
        reports: {
          status: () => ({
            agentVersion: '9.9.9',
            hardware: 'test-rig',
            providers: ['cpu'],
            cameras: [
              {
                cameraId: 'front',
                state: 'running',
                lastError: '',
                lastErrorAtMs: 0,
                restarts: 0,
                framesCaptured: 3,
                framesDropped: 0,
                framesProcessed: 3,
                fps: 10,
                modelId: 'yolov8n',
                modelVersion: '1.0.0',
                provider: 'cpu',
              },
            ],
          }),
        },
      },
    );
    await w.start();
    await waitUntil(
      () => sub.statuses.filter((s) => s.status.online).length >= 2 && sub.metrics.length >= 2,
      'periodic status and metrics',
    );
    const online = sub.statuses.filter((s) => s.status.online).at(-1)!.status;
    assert.equal(online.agentVersion, '9.9.9');
    assert.deepEqual(online.providers, ['cpu']);
    assert.equal(online.cameras[0]?.cameraId, 'front');
    assert.equal(online.outboxFrames, 3, 'unacknowledged rows count in the outbox depth');
    assert.ok(online.syncLagMs > 0);
    const metrics = decodeDeviceMetrics(sub.metrics.at(-1)!, { deviceId: DEVICE });
    assert.equal(metrics.outboxDetections, o.outbox.stats().detections);
    assert.equal(metrics.publishedBatches, 1);

    await w.stop();
    const retained = await retainedStatus(b.url, prefix);
    assert.equal(retained?.online, false, 'clean stop leaves online=false retained');
    assert.equal(w.stats().state, 'stopped');
  });

  it('drops and reports frames the contract rejects, and sends the rest', async () => {
    const o = outbox();
    const b = await broker();
    const seen = new Received();
    b.broker.on('publish', (packet) => {
      if (isDetections(packet)) seen.add(packet.payload as Buffer);
    });
    const good = o.fill(['cam'], 5, 2);
    // A score of 1.5 can never be ingested (scores are in [0, 1]).
    const bad = o.outbox.append([
      frame('cam', 999, 1, { detections: [{ classId: 0, label: 'x', score: 1.5, box: [0, 0, 1, 1] }] }),
    ]).frames[0]!;
    const after = o.fill(['cam'], 5, 2);
    const log = memoryLogger();
    const w = worker(o, { url: b.url, topicPrefix: uniquePrefix() }, { logger: log });
    await w.start();
    await waitUntil(() => o.outbox.stats().frames === 0, 'the outbox to empty');
    assert.deepEqual(seen.missing([...good, ...after]), []);
    assert.equal(seen.counts.has(`cam/${bad.firstSeq}`), false);
    const stats = w.stats();
    assert.equal(stats.rejectedFrames, 1);
    assert.equal(stats.rejectedDetections, 1);
    assert.match(stats.lastError ?? '', /PROTO_ERR_INVALID: .*score/);
    const line = log.lines.find((l) => l.msg === 'sync dropped frames the wire contract rejects');
    assert.ok(line, 'the drop is logged');
    assert.equal(line.level, 'error');
    assert.deepEqual(
      (line.fields.rejected as { frameSeq: number }[]).map((r) => r.frameSeq),
      [bad.frameSeq],
    );
  });

  it('decodes every published payload with the shared codec and names the device in the topic', async () => {
    const o = outbox();
    const b = await broker();
    const topics = new Set<string>();
    b.broker.on('publish', (packet) => {
      if (!isDetections(packet)) return;
      topics.add(packet.topic);
      const batch = decodeDetectionBatch(packet.payload as Buffer, { deviceId: DEVICE });
      assert.ok(batch.sentAtMs > 0 && batch.batchId > 0);
    });
    o.fill(['cam'], 10, 1);
    const prefix = uniquePrefix();
    const w = worker(o, { url: b.url, topicPrefix: prefix });
    await w.start();
    await waitUntil(() => o.outbox.stats().frames === 0, 'the outbox to empty');
    assert.deepEqual([...topics], [`${prefix}/${DEVICE}/detections`]);
  });

  it('puts the image statistics of a row on its wire frame, and sends rows without them without', async () => {
    const o = outbox();
    const b = await broker();
    const frames = new Map<number, unknown>();
    b.broker.on('publish', (packet) => {
      if (!isDetections(packet)) return;
      for (const f of decodeDetectionBatch(packet.payload as Buffer, { deviceId: DEVICE }).frames)
        frames.set(f.frameId, f.imageStats);
    });
    const lumaGrid = Array.from({ length: 16 }, (_, i) => i / 16);
    const imageStats = { brightness: 0.5, contrast: 0.25, sharpness: 0.125, saturation: 0.75, lumaGrid };
    o.outbox.append([frame('cam', 1, 1, { imageStats }), frame('cam', 2, 0)]);
    const w = worker(o, { url: b.url, topicPrefix: uniquePrefix() });
    await w.start();
    await waitUntil(() => o.outbox.stats().frames === 0, 'the outbox to empty');
    // Every value is exact in float32, so what arrives equals what was stored.
    assert.deepEqual(frames.get(1), imageStats);
    assert.equal(frames.get(2), undefined);
    assert.equal(frames.size, 2);
  });

  it('checkpoints the outbox before any row reaches the broker', async () => {
    const o = outbox();
    // A delegating view of the real outbox that notes what was appended and what a checkpoint made durable.
    const rowOf = new Map<string, number>();
    let lastRowId = 0;
    let durableUpTo = 0;
    let checkpoints = 0;
    const real = o.outbox;
    const spied: Outbox = {
      append: (frames: readonly OutboxFrame[]) => {
        const result = real.append(frames);
        for (const f of result.frames) rowOf.set(`${f.cameraId}/${f.frameSeq}`, f.rowId);
        lastRowId = Math.max(lastRowId, ...result.frames.map((f) => f.rowId));
        return result;
      },
      checkpoint: () => {
        real.checkpoint();
        checkpoints++;
        durableUpTo = lastRowId;
      },
      peekFrames: (limit, after) => real.peekFrames(limit, after),
      ack: (ids) => real.ack(ids),
      evictOldest: (n) => real.evictOldest(n),
      lastSeq: (c) => real.lastSeq(c),
      lastFrameSeq: (c) => real.lastFrameSeq(c),
      stats: () => real.stats(),
      onEvicted: (l) => real.onEvicted(l),
      close: () => real.close(),
    };
    const notDurable: string[] = [];
    let batches = 0;
    const b = await broker({
      authorizePublish: (_client, packet, done) => {
        if (isDetections(packet)) {
          batches++;
          for (const f of decodeDetectionBatch(packet.payload as Buffer, { deviceId: DEVICE }).frames) {
            const key = `${f.cameraId}/${f.frameSeq}`;
            if ((rowOf.get(key) ?? Infinity) > durableUpTo) notDurable.push(key);
          }
        }
        done(null);
      },
    });
    const w = new MqttSyncWorker({
      clock: systemClock,
      outbox: spied,
      deviceId: DEVICE,
      logger: silentLogger,
      settings: { url: b.url, topicPrefix: uniquePrefix(), batchMaxFrames: 7, pollIntervalMs: 5 },
    });
    cleanups.push(() => w.stop());
    await w.start();
    // Rows keep arriving while the worker publishes, as from a running camera.
    for (let i = 0; i < 30; i++) {
      spied.append(Array.from({ length: 5 }, (_, k) => frame('cam', i * 5 + k, 2)));
      await sleep(3);
    }
    await waitUntil(() => o.outbox.stats().frames === 0, 'the outbox to empty');
    assert.ok(batches > 1 && checkpoints > 1, `several batches (${batches}) and checkpoints (${checkpoints})`);
    assert.deepEqual(notDurable, [], 'every published frame was checkpointed before it was sent');
  });

  it('refuses invalid settings at start', async () => {
    const o = outbox();
    await assert.rejects(worker(o, { url: 'http://broker' }).start(), /url must be mqtt:\/\//);
    await assert.rejects(
      worker(o, { url: 'mqtt://b', inFlightWindow: 0, batchMaxBytes: 2_000_000 }).start(),
      (err: Error) => {
        assert.match(err.message, /inFlightWindow must be an integer/);
        assert.match(err.message, /batchMaxBytes must be an integer in \[1024, 1048576\]/);
        return true;
      },
    );
    await assert.rejects(worker(o, { url: 'mqtt://b', topicPrefix: 'fleet/#' }).start(), { code: 'PROTO_ERR_INVALID' });
  });
});
