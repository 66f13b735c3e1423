import { systemClock } from '@edgefleet/service-kit';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AssignmentSnapshot, ModelStatusReport } from '@edgefleet/proto';
import { OnnxDetector } from '@edgefleet/vision';
import { constantDetector } from '@edgefleet/vision/testing/onnx-builder';
import { parseConfig } from '../src/config/load-config.js';
import { ArtifactDownloader } from '../src/control/artifact-downloader.js';
import { ControlClient } from '../src/control/control-client.js';
import type { EdgeError } from '../src/errors.js';
import { controlSettings, type ControlSettings } from '../src/control/control-settings.js';
import { StatusReporter } from '../src/control/status-reporter.js';
import { redactUrl, silentLogger } from '@edgefleet/service-kit';
import { DetectorPool } from '../src/models/detector-pool.js';
import { ModelStateStore } from '../src/models/model-state-store.js';
import { TestControlPlane, waitUntil } from './control-plane-fixture.js';

const DEVICE = 'client-dev';

function clientFor(
  cp: TestControlPlane,
  password: string,
  onSnapshot: (s: AssignmentSnapshot) => void,
  known = () => 0,
  settings: Partial<ControlSettings> = {},
): ControlClient {
  return new ControlClient({
    clock: systemClock,
    settings: {
      url: cp.url,
      tls: null,
      authorization: `Basic ${Buffer.from(`${DEVICE}:${password}`).toString('base64')}`,
      reconnectMinMs: 20,
      reconnectMaxMs: 200,
      callTimeoutMs: 2000,
      downloadChunkBytes: 65_536,
      ...settings,
    },
    deviceId: DEVICE,
    logger: silentLogger,
    watchRequest: () => ({
      deviceId: DEVICE,
      knownRevision: known(),
      agentVersion: 'test',
      hardware: 'test',
      providers: ['cpu'],
      cameras: [],
    }),
    onSnapshot,
  });
}

const report = (state: ModelStatusReport['state'], bytesDone = 0): ModelStatusReport => ({
  deviceId: DEVICE,
  cameraId: 'cam',
  sha256: 'a'.repeat(64),
  modelId: 'det',
  version: '1',
  arm: 'primary',
  state,
  reason: '',
  revision: 7,
  atMs: Date.now(),
  rolledBackTo: '',
  bytesDone,
});

describe('control client', () => {
  let cp: TestControlPlane;
  before(async () => {
    cp = await TestControlPlane.start({ deviceId: DEVICE });
  });
  after(() => cp.stop());

  it('watches assignments, and after the control plane restarts reconnects with the revision it knows', async () => {
    const snapshots: AssignmentSnapshot[] = [];
    const client = clientFor(
      cp,
      cp.password,
      (s) => snapshots.push(s),
      () => snapshots.at(-1)?.revision ?? 0,
    );
    client.start();
    try {
      await waitUntil(() => client.stats().state === 'watching', 'watching');
      const d = cp.publish(constantDetector(), { version: '1' });
      const revision = cp.assign({ cameraId: 'cam', primary: d });
      await waitUntil(() => snapshots.at(-1)?.revision === revision, 'the pushed snapshot');
      await cp.stop();
      await waitUntil(
        () => client.stats().state !== 'watching' && client.stats().lastError !== null,
        'the loss noticed',
      );
      await cp.restart();
      await waitUntil(() => client.stats().state === 'watching' && client.stats().connects === 2, 'watching again');
      assert.equal(cp.watches.at(-1)!.knownRevision, revision);
      assert.ok(client.stats().reconnects >= 1);
      assert.equal(
        snapshots.at(-1)!.cameras[0]!.primary.sha256,
        d.sha256,
        'the current state comes first after the reconnect',
      );
    } finally {
      await client.stop();
    }
  });

  it('keeps retrying with a wrong credential, naming UNAUTHENTICATED, without ever watching', async () => {
    const client = clientFor(cp, 'wrong', () => assert.fail('no snapshot for a bad credential'));
    client.start();
    try {
      await waitUntil(() => client.stats().reconnects >= 2, 'retries');
      assert.match(client.stats().lastError ?? '', /UNAUTHENTICATED/);
      assert.equal(client.stats().connects, 0);
    } finally {
      await client.stop();
    }
  });

  it('queues status reports while the control plane is down and delivers them in order once it is back, progress coalesced', async () => {
    const client = clientFor(cp, cp.password, () => undefined);
    client.start();
    const reporter = new StatusReporter({ send: (r) => client.report(r), retryDelay: () => 30, logger: silentLogger });
    await reporter.start();
    try {
      await cp.stop();
      const before = cp.reports.length;
      reporter.push(report('received'));
      reporter.push(report('downloading', 100));
      reporter.push(report('downloading', 200));
      reporter.push(report('downloading', 300));
      reporter.push(report('verifying'));
      reporter.push(report('active'));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(cp.reports.length, before, 'nothing arrives while down');
      await cp.restart();
      await waitUntil(() => reporter.stats().queued === 0, 'queue drained');
      const arrived = cp.reports.slice(before);
      assert.deepEqual(
        arrived.map((r) => [r.state, r.bytesDone]),
        [
          ['received', 0],
          ['downloading', 300],
          ['verifying', 0],
          ['active', 0],
        ],
      );
      assert.deepEqual(reporter.stats(), { queued: 0, sent: 4, dropped: 0 });
    } finally {
      await reporter.stop(0);
      await client.stop();
    }
  });
});

/** A CA and two certificates it signs (openssl CLI): the control plane's and the device's (CN = device id). */
function certificates(dir: string): Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string> {
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
    '-subj',
    '/CN=edgefleet-test-ca',
    '-days',
    '2',
  );
  for (const [name, cn, san] of [
    ['server', 'control-plane.test', 'subjectAltName=DNS:control-plane.test'],
    ['client', DEVICE, 'extendedKeyUsage=clientAuth'],
  ] as const) {
    writeFileSync(f(`${name}.ext`), `${san}\n`);
    openssl('req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`);
    openssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.crt'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f(`${name}.crt`),
      '-days',
      '2',
      '-extfile',
      f(`${name}.ext`),
    );
  }
  return {
    ca: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
  };
}

describe('control client over mTLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-control-tls-'));
  let cp: TestControlPlane;
  let pem: ReturnType<typeof certificates>;
  before(async () => {
    pem = certificates(dir);
    cp = await TestControlPlane.start({
      deviceId: DEVICE,
      tls: { cert: readFileSync(pem.serverCert), key: readFileSync(pem.serverKey), clientCa: readFileSync(pem.ca) },
    });
  });
  after(async () => {
    await cp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const settingsFrom = (control: Record<string, unknown>) =>
    controlSettings(
      parseConfig({
        deviceId: DEVICE,
        model: { path: '/m.onnx' },
        cameras: [{ id: 'cam', uri: 'testsrc://' }],
        control: {
          url: cp.url,
          publicKey: cp.signer.publicKeyBase64,
          password: cp.password,
          tlsCaFile: pem.ca,
          tlsServerName: 'control-plane.test',
          ...control,
        },
      }),
    )!;

  it('watches over mTLS with the CA, client certificate and key named in the config', async () => {
    const client = clientFor(
      cp,
      cp.password,
      () => undefined,
      () => 0,
      settingsFrom({ tlsCertFile: pem.clientCert, tlsKeyFile: pem.clientKey }),
    );
    client.start();
    try {
      await waitUntil(() => client.stats().state === 'watching', 'watching over mTLS');
    } finally {
      await client.stop();
    }
  });

  it("downloads an artifact over mTLS (the downloader's own HTTP/2 session, same settings), and not without a client certificate", async () => {
    const bytes = randomBytes(300_000);
    const d = cp.publish(bytes, { version: 'tls' });
    const downloader = new ArtifactDownloader(settingsFrom({ tlsCertFile: pem.clientCert, tlsKeyFile: pem.clientKey }));
    const noCert = new ArtifactDownloader(settingsFrom({}));
    try {
      const pieces: Buffer[] = [];
      await downloader.download(
        { sha256: d.sha256, offset: 0 },
        (c) => pieces.push(Buffer.from(c.data)),
        new AbortController().signal,
      );
      assert.ok(Buffer.concat(pieces).equals(bytes));
      await assert.rejects(
        noCert.download(
          { sha256: d.sha256, offset: 0 },
          () => assert.fail('no chunk without a client certificate'),
          new AbortController().signal,
        ),
        (e: EdgeError) =>
          e.code === 'EDGE_ERR_MODEL_DOWNLOAD' && (e.details as { retryable?: boolean }).retryable === true,
      );
    } finally {
      downloader.close();
      noCert.close();
    }
  });

  it('cannot connect without a client certificate, nor to a server its CA did not sign', async () => {
    const noCert = clientFor(
      cp,
      cp.password,
      () => assert.fail('no snapshot without a client certificate'),
      () => 0,
      settingsFrom({}),
    );
    const otherCa = clientFor(
      cp,
      cp.password,
      () => assert.fail('no snapshot from an unverified server'),
      () => 0,
      {
        ...settingsFrom({ tlsCertFile: pem.clientCert, tlsKeyFile: pem.clientKey }),
        tls: { cert: readFileSync(pem.clientCert), key: readFileSync(pem.clientKey), serverName: 'control-plane.test' },
      },
    );
    noCert.start();
    otherCa.start();
    try {
      await waitUntil(() => noCert.stats().reconnects >= 2 && otherCa.stats().reconnects >= 2, 'refused attempts');
      assert.equal(noCert.stats().connects + otherCa.stats().connects, 0);
      assert.match(noCert.stats().lastError ?? '', /UNAVAILABLE/);
      assert.match(otherCa.stats().lastError ?? '', /UNAVAILABLE/);
    } finally {
      await noCert.stop();
      await otherCa.stop();
    }
  });
});

describe('watch request', () => {
  it('shows camera sources without credentials', () => {
    assert.equal(
      redactUrl('rtsp://admin:hunter2@10.0.0.5:554/stream1', { hideUser: true }),
      'rtsp://10.0.0.5:554/stream1',
    );
    assert.equal(
      redactUrl('rtsp://10.0.0.5/s?user=a&password=b&channel=1', { hideUser: true }),
      'rtsp://10.0.0.5/s?user=a&password=redacted&channel=1',
    );
    assert.equal(redactUrl('dir:///data/seq', { hideUser: true }), 'dir:///data/seq');
  });
});

describe('detector pool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-pool-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a model once for every holder and closes it when the last one lets go', async () => {
    const path = join(dir, 'm.onnx');
    writeFileSync(path, constantDetector());
    let loads = 0;
    const pool = new DetectorPool(silentLogger, (p, o) => {
      loads++;
      return OnnxDetector.load(p, o);
    });
    const [a, b] = await Promise.all([
      pool.acquire('k', path, { providers: ['cpu'] }),
      pool.acquire('k', path, { providers: ['cpu'] }),
    ]);
    assert.equal(loads, 1);
    assert.equal(a.detector, b.detector);
    assert.equal(a.refs, 2);
    const frame = {
      data: new Uint8Array(64 * 64 * 3).fill(128),
      width: 64,
      height: 64,
      format: 'RGB',
      sourceWidth: 64,
      sourceHeight: 64,
    } as const;
    a.release();
    await a.detector.detect(frame);
    b.release();
    await waitUntil(() => pool.size() === 0, 'entry gone');
    await assert.rejects(b.detector.detect(frame), { code: 'VISION_ERR_CLOSED' });
    const again = await pool.acquire('k', path, { providers: ['cpu'] });
    assert.equal(loads, 2, 'a new holder after the close loads it again');
    again.release();
    await pool.close();
  });
});

describe('model state store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-model-state-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('tells a boot after a crash from a boot after a clean stop', () => {
    const path = join(dir, 'state.sqlite');
    const boot = () => {
      const s = ModelStateStore.open(path);
      return { s, cleanStop: s.markRunning().cleanStop };
    };
    const first = boot();
    assert.equal(first.cleanStop, true, 'a first boot is not a restart');
    first.s.close(); // no markStopped: a crash
    const second = boot();
    assert.equal(second.cleanStop, false);
    second.s.markStopped();
    second.s.close();
    const third = boot();
    assert.equal(third.cleanStop, true);
    third.s.close();
  });
});
