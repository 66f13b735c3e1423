import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import {
  modelSignaturePayload,
  type AssignmentSnapshot,
  type ModelChunk,
  type ModelStatusReport,
} from '@edgefleet/proto';
import { ControlPlane } from '../src/server/control-plane.js';
import { createPgStore } from '../src/storage/pg-store.js';
import { parseControlPlaneConfig } from '../src/config/load-control-plane-config.js';
import { silentLogger } from '@edgefleet/service-kit';
import type { ControlPlaneConfigInput } from '../src/config/control-plane-config-schema.js';
import type { Store } from '../src/storage/store.js';
import {
  basicAuth,
  fleetControlClient,
  grpc,
  report,
  StreamReader,
  streamError,
  watchRequest,
  type FleetControlClient,
} from './grpc-test-kit.js';
import { tinyDetector } from './model-files.js';
import { sharedPath } from '@edgefleet/service-kit/testing';
import { waitFor } from './ingest-test-kit.js';
import { createDatabase } from './storage-test-db.js';
import { tempDir } from '@edgefleet/service-kit/testing';

/**
 * fleet.v1.FleetControl end to end: a real control plane on PostgreSQL, real grpc-js clients built from
 * the contract's client definition, models uploaded over REST. One control plane for the file; its
 * resync runs every 10 minutes, so what reaches a watcher here was pushed, not polled (the replica test
 * starts a second control plane with a short resync).
 */

interface Model {
  serial: number;
  sha256: string;
  sizeBytes: number;
}

const cleanups: (() => void | Promise<void>)[] = [];
const t = { after: (fn: () => void | Promise<void>) => void cleanups.push(fn) };

async function startCp(store: Store, input: ControlPlaneConfigInput): Promise<ControlPlane> {
  const config = parseControlPlaneConfig({
    dataDir: tempDir(t as { after: (fn: () => void) => void }),
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0, rateLimit: { enabled: false } },
    grpc: { host: '127.0.0.1', port: 0 },
    ...input,
  });
  const cp = new ControlPlane(config, { store, logger: silentLogger });
  await cp.start();
  cleanups.push(() => cp.stop());
  return cp;
}

describe('gRPC FleetControl (PostgreSQL)', () => {
  let cp: ControlPlane;
  let client: FleetControlClient;
  let url: string;
  const passwords = new Map<string, string>();
  const models: Record<string, Model> = {};
  let yolo: Model;
  let yoloBytes: Buffer;

  async function rest<T>(
    method: string,
    path: string,
    body?: unknown,
    via: ControlPlane = cp,
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`http://127.0.0.1:${via.info.http.port}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${via.adminToken}`,
        ...(body === undefined
          ? {}
          : Buffer.isBuffer(body)
            ? { 'content-type': 'application/octet-stream' }
            : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: Buffer.isBuffer(body) ? body : JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  async function uploadModel(name: string, version: string, bytes: Buffer): Promise<Model> {
    const res = await rest<Model>('POST', `/api/v1/models?name=${name}&version=${version}`, bytes);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  }

  const auth = (deviceId: string) => basicAuth(deviceId, passwords.get(deviceId) as string);
  const watch = (deviceId: string, cameras = ['cam-1', 'cam-2', 'cam-3', 'cam-4'], c: FleetControlClient = client) =>
    new StreamReader<AssignmentSnapshot>(c.watchAssignments(watchRequest(deviceId, cameras), auth(deviceId)));
  const assign = (deviceId: string, cameraId: string, body: unknown) =>
    rest<{ revision: number; primary: Model }>(
      'PUT',
      `/api/v1/devices/${deviceId}/cameras/${cameraId}/assignment`,
      body,
    );
  const statusReport = (
    r: Partial<ModelStatusReport> & Pick<ModelStatusReport, 'deviceId' | 'cameraId' | 'sha256' | 'state'>,
  ): ModelStatusReport => ({
    modelId: 'm',
    version: '1',
    arm: 'primary',
    reason: '',
    revision: 0,
    atMs: Date.now(),
    rolledBackTo: '',
    bytesDone: 0,
    ...r,
  });
  /** Reads snapshots until one satisfies `check` (earlier ones may be for earlier changes). */
  async function until(
    reader: StreamReader<AssignmentSnapshot>,
    check: (s: AssignmentSnapshot) => boolean,
  ): Promise<AssignmentSnapshot> {
    for (;;) {
      const s = await reader.next();
      if (check(s)) return s;
    }
  }

  before(async () => {
    const db = await createDatabase();
    url = db.url;
    const store = createPgStore({ connectionString: url });
    cleanups.push(async () => {
      await store.close();
      await db.drop();
    });
    cp = await startCp(store, { assignments: { resyncIntervalMs: 600_000 } });
    client = fleetControlClient(t, `127.0.0.1:${cp.info.grpc?.port}`);
    for (const device of ['dev-a', 'dev-b']) {
      const res = await rest<{ password: string }>('POST', '/api/v1/devices', { deviceId: device });
      assert.equal(res.status, 201);
      passwords.set(device, res.body.password);
    }
    for (const v of ['1', '2', '3']) models[v] = await uploadModel('tiny', v, tinyDetector());
    yoloBytes = readFileSync(sharedPath('models', 'yolov8n_int8.onnx'));
    yolo = await uploadModel('yolov8n', 'int8', yoloBytes);
  });
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  test('a watch gets the current snapshot first and records the agent: version, hardware, providers, cameras', async () => {
    const reader = watch('dev-a');
    const first = await reader.next();
    assert.deepEqual([first.deviceId, first.revision, first.cameras], ['dev-a', 0, []]);
    const device = (
      await rest<{ agentVersion: string; hardware: string; providers: string[] }>('GET', '/api/v1/devices/dev-a')
    ).body;
    assert.deepEqual([device.agentVersion, device.hardware, device.providers], ['0.5.0-test', 'x86_64 test', ['cpu']]);
    const cameras = (
      await rest<{ cameras: { cameraId: string; source: string }[] }>('GET', '/api/v1/devices/dev-a/cameras')
    ).body.cameras;
    assert.deepEqual(cameras.map((c) => [c.cameraId, c.source]).slice(0, 2), [
      ['cam-1', 'rtsp://10.0.0.9/cam-1'],
      ['cam-2', 'rtsp://10.0.0.9/cam-2'],
    ]);
    reader.cancel();
  });

  test('an assignment reaches the watcher as a snapshot, pushed on change (no polling), with signed descriptors', async (tc) => {
    const reader = watch('dev-a');
    await reader.next();
    const t0 = performance.now();
    const put = await assign('dev-a', 'cam-1', { model: models['1']!.serial, reason: 'first rollout' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    // Each read waits at most 10 s and the resync polls every 10 minutes: a snapshot read here was pushed.
    // Latency is measured by `./dev bench` (bench:rollout), not asserted here.
    const snapshot = await until(reader, (s) => s.revision === put.body.revision);
    tc.diagnostic(`assignment → snapshot on the watch: ${(performance.now() - t0).toFixed(1)} ms`);
    const cam = snapshot.cameras.find((c) => c.cameraId === 'cam-1');
    assert.equal(cam?.primary.serial, models['1']!.serial);
    assert.equal(cam?.reason, 'first rollout');
    assert.equal(cam?.rollback, false);
    assert.equal(cam?.candidate, undefined);
    // The descriptor's signature verifies with the control plane's key.
    const key = createPublicKey({
      key: {
        kty: 'OKP',
        crv: 'Ed25519',
        x: Buffer.from(cp.info.signingKey.publicKeyBase64, 'base64').toString('base64url'),
      },
      format: 'jwk',
    });
    const p = cam!.primary;
    assert.equal(p.keyId, cp.info.signingKey.keyId);
    assert.equal(verify(null, modelSignaturePayload(p), key, p.signature), true);
    reader.cancel();
  });

  test('A/B split and shadow candidates arrive in the snapshot with their mode and share', async () => {
    const reader = watch('dev-a');
    await reader.next();
    const split = await assign('dev-a', 'cam-2', { model: models['1']!.serial, candidate: `tiny:2`, splitPercent: 10 });
    assert.equal(split.status, 200, JSON.stringify(split.body));
    let s = await until(reader, (x) => x.revision === split.body.revision);
    let cam = s.cameras.find((c) => c.cameraId === 'cam-2');
    assert.deepEqual(
      [cam?.candidate?.serial, cam?.candidateMode, cam?.splitBasisPoints],
      [models['2']!.serial, 'split', 1000],
    );
    const shadow = await assign('dev-a', 'cam-2', {
      model: models['1']!.serial,
      candidate: models['3']!.serial,
      mode: 'shadow',
    });
    s = await until(reader, (x) => x.revision === shadow.body.revision);
    cam = s.cameras.find((c) => c.cameraId === 'cam-2');
    assert.deepEqual(
      [cam?.candidate?.serial, cam?.candidateMode, cam?.splitBasisPoints],
      [models['3']!.serial, 'shadow', 0],
    );
    assert.equal(s.revision, Math.max(...s.cameras.map((c) => c.revision)));
    reader.cancel();
  });

  test('a cancelled watch removes its listener; a fresh watch after a reconnect starts with the current state', async () => {
    const bus = cp.services.bus;
    await waitFor('earlier watches closed', () => bus.listenerCount('assignment.changed') === 0);
    const first = watch('dev-a');
    const before = await first.next();
    assert.equal(bus.listenerCount('assignment.changed'), 1);
    first.cancel();
    await waitFor("the watch's listener removed", () => bus.listenerCount('assignment.changed') === 0);
    const put = await assign('dev-a', 'cam-1', { model: models['2']!.serial });
    // The agent was away during the change; its new watch starts with the state that includes it.
    const again = watch('dev-a');
    const current = await again.next();
    assert.ok(current.revision > before.revision);
    assert.equal(current.revision, put.body.revision);
    assert.equal(current.cameras.find((c) => c.cameraId === 'cam-1')?.primary.serial, models['2']!.serial);
    again.cancel();
  });

  test('download with resume from an offset reassembles the exact bytes of the artifact', async () => {
    const chunkBytes = 64 * 1024;
    const firstPart: ModelChunk[] = [];
    const reader = new StreamReader<ModelChunk>(
      client.downloadModel({ sha256: yolo.sha256, offset: 0, chunkBytes }, auth('dev-a')),
    );
    for (let i = 0; i < 5; i++) firstPart.push(await reader.next());
    reader.cancel(); // the connection "drops" after five chunks
    const received = Buffer.concat(firstPart.map((c) => Buffer.from(c.data)));
    assert.equal(received.length, 5 * chunkBytes);
    const rest: ModelChunk[] = [];
    const resumed = client.downloadModel({ sha256: yolo.sha256, offset: received.length, chunkBytes }, auth('dev-a'));
    await new Promise<void>((resolve, reject) => {
      resumed.on('data', (c: ModelChunk) => rest.push(c));
      resumed.on('end', resolve);
      resumed.on('error', reject);
    });
    let offset = received.length;
    for (const c of rest) {
      assert.equal(c.offset, offset, 'chunks are contiguous');
      assert.equal(c.totalBytes, yoloBytes.length);
      assert.ok(c.data.length <= chunkBytes);
      offset += c.data.length;
    }
    const whole = Buffer.concat([received, ...rest.map((c) => Buffer.from(c.data))]);
    assert.equal(whole.length, yoloBytes.length);
    assert.equal(createHash('sha256').update(whole).digest('hex'), yolo.sha256);
    assert.ok(whole.equals(yoloBytes));
    // A resume inside a chunk: the rest of that chunk first, then whole chunks from the next boundary.
    const inside = 3 * chunkBytes + 1000;
    const tail: ModelChunk[] = [];
    const fromInside = client.downloadModel({ sha256: yolo.sha256, offset: inside, chunkBytes }, auth('dev-a'));
    await new Promise<void>((resolve, reject) => {
      fromInside.on('data', (c: ModelChunk) => tail.push(c));
      fromInside.on('end', resolve);
      fromInside.on('error', reject);
    });
    assert.deepEqual(
      tail.slice(0, 2).map((c) => [c.offset, c.data.length]),
      [
        [inside, chunkBytes - 1000],
        [4 * chunkBytes, chunkBytes],
      ],
    );
    assert.ok(Buffer.concat(tail.map((c) => Buffer.from(c.data))).equals(yoloBytes.subarray(inside)));
  });

  test('download: default chunks of 256 KiB; NOT_FOUND for an unknown sha256; OUT_OF_RANGE past the end; nothing at the end', async () => {
    const reader = new StreamReader<ModelChunk>(
      client.downloadModel({ sha256: yolo.sha256, offset: 0, chunkBytes: 0 }, auth('dev-a')),
    );
    assert.equal((await reader.next()).data.length, 256 * 1024);
    reader.cancel();
    const unknown = await streamError(
      client.downloadModel({ sha256: 'f'.repeat(64), offset: 0, chunkBytes: 0 }, auth('dev-a')),
    );
    assert.equal(unknown.code, grpc.status.NOT_FOUND);
    const past = await streamError(
      client.downloadModel({ sha256: yolo.sha256, offset: yolo.sizeBytes + 1, chunkBytes: 0 }, auth('dev-a')),
    );
    assert.equal(past.code, grpc.status.OUT_OF_RANGE);
    const atEnd: ModelChunk[] = [];
    const end = client.downloadModel({ sha256: yolo.sha256, offset: yolo.sizeBytes, chunkBytes: 0 }, auth('dev-a'));
    await new Promise<void>((resolve, reject) => {
      end.on('data', (c: ModelChunk) => atEnd.push(c));
      end.on('end', resolve);
      end.on('error', reject);
    });
    assert.deepEqual(atEnd, []);
  });

  test('a device may not watch or report for another device: PERMISSION_DENIED', async () => {
    const err = await streamError(client.watchAssignments(watchRequest('dev-b'), auth('dev-a')));
    assert.equal(err.code, grpc.status.PERMISSION_DENIED);
    await assert.rejects(
      report(
        client,
        statusReport({ deviceId: 'dev-b', cameraId: 'cam-1', sha256: models['1']!.sha256, state: 'active' }),
        auth('dev-a'),
      ),
      (e: grpc.ServiceError) => e.code === grpc.status.PERMISSION_DENIED,
    );
  });

  test('bad or missing credentials are UNAUTHENTICATED on every method', async () => {
    const wrong = basicAuth('dev-a', 'not-the-password');
    const unknown = basicAuth('nobody', 'whatever');
    for (const md of [wrong, unknown, new grpc.Metadata()]) {
      assert.equal(
        (await streamError(client.watchAssignments(watchRequest('dev-a'), md))).code,
        grpc.status.UNAUTHENTICATED,
      );
      assert.equal(
        (await streamError(client.downloadModel({ sha256: yolo.sha256, offset: 0, chunkBytes: 0 }, md))).code,
        grpc.status.UNAUTHENTICATED,
      );
      await assert.rejects(
        report(
          client,
          statusReport({ deviceId: 'dev-a', cameraId: 'cam-1', sha256: models['1']!.sha256, state: 'active' }),
          md,
        ),
        (e: grpc.ServiceError) => e.code === grpc.status.UNAUTHENTICATED,
      );
    }
  });

  test('a request that breaks the contract is INVALID_ARGUMENT naming the field', async () => {
    // Raw bytes: DownloadModelRequest { sha256: "xyz" } (field 1, length 3), which the client codec would refuse to send.
    const raw = Buffer.from([0x0a, 0x03, 0x78, 0x79, 0x7a]);
    const call = client.makeServerStreamRequest(
      '/fleet.v1.FleetControl/DownloadModel',
      (b: Buffer) => b,
      (b: Buffer) => b,
      raw,
      auth('dev-a'),
    );
    const err = await streamError(call);
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /sha256/);
  });

  test('a rolled_back report of the primary returns the camera to the model the device runs; the watcher gets it', async () => {
    const reader = watch('dev-a');
    await reader.next();
    await assign('dev-a', 'cam-3', { model: models['1']!.serial });
    const bad = await assign('dev-a', 'cam-3', { model: models['3']!.serial });
    await until(reader, (s) => s.revision === bad.body.revision);
    const ack = await report(
      client,
      statusReport({
        deviceId: 'dev-a',
        cameraId: 'cam-3',
        sha256: models['3']!.sha256,
        state: 'rolled_back',
        reason: 'p95 latency 180 ms > budget 50 ms',
        rolledBackTo: models['1']!.sha256,
        revision: bad.body.revision,
      }),
      auth('dev-a'),
    );
    assert.equal(ack.accepted, true);
    const s = await until(reader, (x) => x.revision > bad.body.revision);
    const cam = s.cameras.find((c) => c.cameraId === 'cam-3');
    assert.equal(cam?.primary.serial, models['1']!.serial);
    assert.equal(cam?.rollback, true);
    assert.equal(cam?.reason, 'auto-rollback on dev-a: p95 latency 180 ms > budget 50 ms');
    const status = (
      await rest<{ latest: { cameraId: string; state: string; rolledBackTo: string }[] }>(
        'GET',
        '/api/v1/devices/dev-a/model-status?camera=cam-3',
      )
    ).body;
    assert.deepEqual(
      status.latest.map((x) => [x.state, x.rolledBackTo]),
      [['rolled_back', models['1']!.sha256]],
    );
    // The fleet-wide view carries the same row, with its device.
    const fleet = (
      await rest<{ latest: { deviceId: string; cameraId: string; state: string }[] }>('GET', '/api/v1/model-status')
    ).body.latest;
    assert.deepEqual(
      fleet.filter((x) => x.deviceId === 'dev-a' && x.cameraId === 'cam-3').map((x) => x.state),
      ['rolled_back'],
    );
    assert.ok(fleet.every((x) => typeof x.deviceId === 'string' && x.deviceId.length > 0));
    const audit = (
      await rest<{ entries: { action: string; actor: string }[] }>(
        'GET',
        '/api/v1/audit?target=camera:dev-a/cam-3&limit=3',
      )
    ).body.entries;
    assert.deepEqual(
      audit.slice(0, 2).map((e) => [e.action, e.actor]),
      [
        ['assignment.auto-rollback', 'device:dev-a'],
        ['model-status.report', 'device:dev-a'],
      ],
    );
    reader.cancel();
  });

  test('a failed candidate is removed; a failed primary returns to the last model the device reported active; stale reports change nothing', async () => {
    const reader = watch('dev-a');
    await reader.next();
    // Candidate in shadow mode fails to load.
    const shadow = await assign('dev-a', 'cam-4', {
      model: models['1']!.serial,
      candidate: models['2']!.serial,
      mode: 'shadow',
    });
    await until(reader, (s) => s.revision === shadow.body.revision);
    await report(
      client,
      statusReport({
        deviceId: 'dev-a',
        cameraId: 'cam-4',
        arm: 'shadow',
        sha256: models['2']!.sha256,
        state: 'failed',
        reason: 'signature does not verify',
      }),
      auth('dev-a'),
    );
    let s = await until(reader, (x) => x.revision > shadow.body.revision);
    let cam = s.cameras.find((c) => c.cameraId === 'cam-4');
    assert.deepEqual([cam?.primary.serial, cam?.candidate, cam?.rollback], [models['1']!.serial, undefined, true]);
    // The device runs model 1; model 3 then fails to load: back to model 1, the last one reported active.
    await report(
      client,
      statusReport({ deviceId: 'dev-a', cameraId: 'cam-4', sha256: models['1']!.sha256, state: 'active' }),
      auth('dev-a'),
    );
    const next = await assign('dev-a', 'cam-4', { model: models['3']!.serial });
    await until(reader, (x) => x.revision === next.body.revision);
    await report(
      client,
      statusReport({
        deviceId: 'dev-a',
        cameraId: 'cam-4',
        sha256: models['3']!.sha256,
        state: 'failed',
        reason: 'truncated artifact',
      }),
      auth('dev-a'),
    );
    s = await until(reader, (x) => x.revision > next.body.revision);
    cam = s.cameras.find((c) => c.cameraId === 'cam-4');
    assert.deepEqual([cam?.primary.serial, cam?.rollback], [models['1']!.serial, true]);
    // A late report about model 3, no longer assigned there, is recorded but changes nothing.
    const revision = s.revision;
    await report(
      client,
      statusReport({
        deviceId: 'dev-a',
        cameraId: 'cam-4',
        sha256: models['3']!.sha256,
        state: 'rolled_back',
        reason: 'late',
      }),
      auth('dev-a'),
    );
    const current = (await rest<{ revision: number }>('GET', '/api/v1/devices/dev-a/cameras/cam-4/assignment')).body;
    assert.equal(current.revision, cam!.revision);
    assert.equal(reader.buffered, 0);
    assert.ok(revision >= current.revision);
    reader.cancel();
  });

  test('with the chunk cache off, downloads stream from the store through call.write: the same bytes, resumes inside a chunk too', async () => {
    const store = createPgStore({ connectionString: url });
    cleanups.push(() => store.close());
    // A second replica on the same database and data directory (so the same artifacts), cache off.
    const uncached = await startCp(store, {
      dataDir: cp.info.dataDir,
      grpc: { host: '127.0.0.1', port: 0, chunkCacheBytes: 0 },
    });
    const onUncached = fleetControlClient(t, `127.0.0.1:${uncached.info.grpc?.port}`);
    for (const offset of [0, 70_000]) {
      const chunks: ModelChunk[] = [];
      const call = onUncached.downloadModel({ sha256: yolo.sha256, offset, chunkBytes: 65_536 }, auth('dev-a'));
      await new Promise<void>((resolve, reject) => {
        call.on('data', (c: ModelChunk) => chunks.push(c));
        call.on('end', resolve);
        call.on('error', reject);
      });
      assert.equal(chunks[0]?.offset, offset);
      assert.ok(
        Buffer.concat(chunks.map((c) => Buffer.from(c.data))).equals(yoloBytes.subarray(offset)),
        `from offset ${offset}`,
      );
    }
  });

  test("a change written by another control-plane replica reaches this replica's watchers through the resync", async () => {
    // A second replica on the same database, with a short resync; the change is made through the first.
    const store = createPgStore({ connectionString: url });
    cleanups.push(() => store.close());
    const replica = await startCp(store, { assignments: { resyncIntervalMs: 200 } });
    const onReplica = fleetControlClient(t, `127.0.0.1:${replica.info.grpc?.port}`);
    const reader = watch('dev-b', ['cam-1'], onReplica);
    await reader.next();
    const put = await assign('dev-b', 'cam-1', { model: models['2']!.serial });
    assert.equal(put.status, 200);
    const s = await until(reader, (x) => x.revision === put.body.revision);
    assert.equal(s.cameras[0]?.primary.serial, models['2']!.serial);
    reader.cancel();
  });
});
