import { systemClock } from '@edgefleet/service-kit';
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeDeviceStatus } from '@edgefleet/proto';
import { tempDir } from '@edgefleet/service-kit/testing';
import { parseConfig } from '../src/config/load-config.js';
import { EdgeError } from '../src/errors.js';
import { createSyncWorker, syncSettings } from '../src/sync/create-sync-worker.js';
import { toCameraStatus } from '../src/sync/camera-status-report.js';
import type { CameraWorker } from '../src/agent/camera-worker.js';
import { AedesBroker, DEVICE, memoryLogger, openOutbox, uniquePrefix, waitUntil } from './sync-harness.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const undo of cleanups.splice(0).reverse()) await undo();
});

const base = (sync?: unknown) => ({
  deviceId: DEVICE,
  model: { path: '/models/yolov8n.onnx' },
  cameras: [{ id: 'front', uri: 'rtsp://10.0.0.5/stream1' }],
  ...(sync === undefined ? {} : { sync }),
});

describe('sync configuration', () => {
  it('is optional, and fills every default from the schema when present', () => {
    assert.equal(parseConfig(base()).sync, undefined);
    assert.deepEqual(parseConfig(base({ url: 'mqtt://cp.local:1883' })).sync, {
      url: 'mqtt://cp.local:1883',
      topicPrefix: 'fleet/v1',
      protocol: 'auto',
      batchMaxFrames: 1000,
      batchMaxBytes: 262_144,
      inFlightWindow: 8,
      pollIntervalMs: 50,
      reconnectMinMs: 500,
      reconnectMaxMs: 30_000,
      keepaliveSeconds: 30,
      connectTimeoutMs: 10_000,
      statusIntervalMs: 30_000,
      metricsIntervalMs: 10_000,
      drainTimeoutMs: 2000,
      tlsRejectUnauthorized: true,
    });
  });

  it('rejects bad values with their paths, and takes the password from the environment', () => {
    assert.throws(
      () => parseConfig(base({ url: 'http://cp', batchMaxBytes: 2_000_000, inFlightWindow: 0, tlsCaFile: 'ca.pem' })),
      (err: unknown) => {
        assert.ok(err instanceof EdgeError);
        const details = (err.details as string[]).join('\n');
        assert.match(details, /^\/sync\/url: /m);
        assert.match(details, /^\/sync\/batchMaxBytes: expected integer >= 1024 and <= 1048576/m);
        assert.match(details, /^\/sync\/inFlightWindow: /m);
        assert.match(details, /^\/sync\/tlsCaFile: /m);
        return true;
      },
    );
    const config = parseConfig(base({ url: 'mqtt://cp' }), {
      env: { EDGE_AGENT_SYNC__PASSWORD: 's3cret', EDGE_AGENT_SYNC__USERNAME: 'dev' },
    });
    assert.equal(config.sync?.password, 's3cret');
    assert.equal(config.sync?.username, 'dev');
  });

  it('reads passwordFile and TLS files at creation, and names a missing one', () => {
    const dir = tempDir({ after: (fn) => cleanups.push(fn) }, 'edge-sync-config-');
    writeFileSync(join(dir, 'pw'), 'from-file\n');
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\n');
    const sync = parseConfig(base({ url: 'mqtts://cp', passwordFile: join(dir, 'pw'), tlsCaFile: join(dir, 'ca.pem') }))
      .sync!;
    const settings = syncSettings(sync);
    assert.equal(settings.password, 'from-file');
    assert.equal(settings.tls?.ca?.toString(), '-----BEGIN CERTIFICATE-----\n');
    assert.equal(settings.tls?.rejectUnauthorized, true);

    const missing = parseConfig(base({ url: 'mqtts://cp', tlsCertFile: join(dir, 'nope.pem') })).sync!;
    assert.throws(() => syncSettings(missing), {
      code: 'EDGE_ERR_CONFIG_READ',
      message: new RegExp(`tlsCertFile ${join(dir, 'nope.pem')}: ENOENT`),
    });
    const both = parseConfig(base({ url: 'mqtt://cp', password: 'a', passwordFile: join(dir, 'pw') })).sync!;
    assert.throws(() => syncSettings(both), { code: 'EDGE_ERR_CONFIG_INVALID' });
  });

  it('builds no worker without a sync section', () => {
    const o = openOutbox();
    cleanups.push(() => o.cleanup());
    assert.equal(
      createSyncWorker({ config: parseConfig(base()), outbox: o.outbox, logger: memoryLogger(), clock: systemClock }),
      null,
    );
  });

  it('authenticates with the configured credentials and never logs the password', async () => {
    const password = 'pw-9f83kq';
    const b = await AedesBroker.start({
      authenticate: (_client, username, pw, done) => done(null, username === 'dev' && pw?.toString() === password),
    });
    cleanups.push(() => b.kill());
    const o = openOutbox();
    cleanups.push(() => o.cleanup());
    o.fill(['front'], 5, 1);
    const log = memoryLogger();
    const prefix = uniquePrefix();
    const good = createSyncWorker({
      clock: systemClock,
      config: parseConfig(base({ url: b.url, username: 'dev', topicPrefix: prefix }), {
        env: { EDGE_AGENT_SYNC__PASSWORD: password },
      }),
      outbox: o.outbox,
      logger: log,
    })!;
    cleanups.push(() => good.stop());
    await good.start();
    await waitUntil(() => o.outbox.stats().frames === 0, 'the outbox to empty');
    await good.stop();

    o.fill(['front'], 5, 1);
    const bad = createSyncWorker({
      clock: systemClock,
      config: parseConfig(
        base({
          url: b.url,
          username: 'dev',
          password: 'wrong',
          topicPrefix: prefix,
          reconnectMinMs: 20,
          reconnectMaxMs: 40,
        }),
      ),
      outbox: o.outbox,
      logger: log,
    })!;
    cleanups.push(() => bad.stop());
    await bad.start();
    await waitUntil(() => bad.stats().reconnects >= 2, 'refused attempts');
    assert.match(bad.stats().lastError ?? '', /Bad username or password|Not authorized/);
    assert.equal(o.outbox.stats().frames, 5, 'rows stay while the broker refuses the device');
    assert.ok(log.lines.length > 0);
    for (const line of log.lines)
      assert.ok(!JSON.stringify(line).includes(password), `password in log line ${line.msg}`);
  });
});

describe('camera status report', () => {
  const worker = (
    over: Partial<ReturnType<CameraWorker['status']>> = {},
    capture: Record<string, unknown> = {},
  ): ReturnType<CameraWorker['status']> => ({
    state: 'running',
    error: null,
    framesProcessed: 90,
    detections: 300,
    modelId: 'yolov8n',
    modelVersion: 'local',
    provider: 'cpu',
    models: null,
    arms: { primary: 90, candidate: 0, shadow: 0 },
    ...over,
    capture: {
      cameraId: 'front',
      state: 'running',
      lastError: null,
      lastErrorAt: null,
      restarts: 1,
      framesCaptured: 100,
      framesDropped: 10,
      lastFrameAt: 1,
      ...capture,
    } as ReturnType<CameraWorker['status']>['capture'],
  });

  it('maps a running camera to a status the contract accepts', () => {
    const status = toCameraStatus({
      status: worker(),
      fps: 29.5,
      modelId: 'yolov8n',
      modelVersion: '1.0.0',
      provider: 'cpu',
    });
    assert.deepEqual(status, {
      cameraId: 'front',
      state: 'running',
      lastError: '',
      lastErrorAtMs: 0,
      restarts: 1,
      framesCaptured: 100,
      framesDropped: 10,
      framesProcessed: 90,
      fps: 29.5,
      modelId: 'yolov8n',
      modelVersion: '1.0.0',
      provider: 'cpu',
    });
    encodeDeviceStatus({
      deviceId: DEVICE,
      online: true,
      agentVersion: '',
      startedAtMs: 1,
      reportedAtMs: 1,
      cameras: [status],
      outboxFrames: 0,
      outboxDetections: 0,
      outboxEvictedDetections: 0,
      syncLagMs: 0,
      hardware: '',
      providers: [],
    });
  });

  it('lets terminal worker states win and bounds the error text', () => {
    assert.equal(toCameraStatus({ status: worker({ state: 'finished' }) }).state, 'finished');
    assert.equal(toCameraStatus({ status: worker({ state: 'failed' }, { state: 'reconnecting' }) }).state, 'failed');
    assert.equal(toCameraStatus({ status: worker({}, { state: 'reconnecting' }) }).state, 'reconnecting');
    const long = toCameraStatus({ status: worker({}, { lastError: 'x'.repeat(5000), lastErrorAt: 1234.6 }), fps: NaN });
    assert.equal(long.lastError.length, 2048);
    assert.equal(long.lastErrorAtMs, 1235);
    assert.equal(long.fps, 0);
  });
});
