import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import {
  FLEET_CONTROL_CLIENT_DEFINITION,
  FLEET_CONTROL_SERVER_DEFINITION,
  encodeModelChunkMessage,
} from '../src/fleet-control-service.js';
import { ProtoError } from '../src/proto-error.js';
import {
  decodeAssignmentSnapshot,
  decodeDownloadModelRequest,
  decodeModelChunk,
  decodeModelStatusReport,
  decodeWatchAssignmentsRequest,
  encodeAssignmentSnapshot,
  encodeDownloadModelRequest,
  encodeModelChunk,
  encodeModelStatusReport,
  encodeWatchAssignmentsRequest,
} from '../src/control-codecs.js';
import { modelSignaturePayload, signingKeyId } from '../src/artifact-signature.js';
import type { AssignmentSnapshot, ModelDescriptor, ModelStatusReport } from '../src/control-messages.js';
import { FleetV1 } from '../src/schema.js';

const descriptor = (over: Partial<ModelDescriptor> = {}): ModelDescriptor => ({
  modelId: 'edgefleet-base',
  version: '2',
  serial: 7,
  sha256: 'a'.repeat(64),
  sizeBytes: 1234,
  signature: new Uint8Array(64).fill(3),
  keyId: '0123456789abcdef',
  classNames: ['person', 'bicycle', 'car'],
  inputWidth: 320,
  inputHeight: 320,
  ...over,
});

const snapshot = (): AssignmentSnapshot => ({
  deviceId: 'box-1',
  revision: 12,
  sentAtMs: 1_700_000_000_000,
  cameras: [
    { cameraId: 'gate', primary: descriptor(), splitBasisPoints: 0, rollback: false, reason: 'assigned', revision: 5 },
    {
      cameraId: 'yard',
      primary: descriptor(),
      candidate: descriptor({ version: '3', serial: 8, sha256: 'b'.repeat(64) }),
      candidateMode: 'split',
      splitBasisPoints: 1000,
      rollback: false,
      reason: 'A/B 10 %',
      revision: 12,
      policy: {
        maxErrorRate: 0.05,
        errorWindowFrames: 200,
        p95LatencyBudgetMs: 80,
        latencyWindowFrames: 100,
        crashLoopRestarts: 3,
        crashLoopWindowS: 300,
      },
    },
  ],
});

const report = (over: Partial<ModelStatusReport> = {}): ModelStatusReport => ({
  deviceId: 'box-1',
  cameraId: 'gate',
  sha256: 'c'.repeat(64),
  modelId: 'm',
  version: '1',
  arm: 'primary',
  state: 'rolled_back',
  reason: 'p95 latency 90 ms > budget 20 ms',
  revision: 4,
  atMs: 1_700_000_000_000,
  rolledBackTo: 'd'.repeat(64),
  bytesDone: 0,
  ...over,
});

function expectInvalid(fn: () => unknown, field: RegExp): void {
  assert.throws(
    fn,
    (err: unknown) => err instanceof ProtoError && err.code === 'PROTO_ERR_INVALID' && field.test(err.message),
  );
}

describe('control codecs', () => {
  it('round-trips an assignment snapshot with candidate, split and policy', () => {
    const s = snapshot();
    const back = decodeAssignmentSnapshot(encodeAssignmentSnapshot(s), { deviceId: 'box-1' });
    assert.deepEqual(back, s);
  });

  it('refuses a snapshot for another device', () => {
    expectInvalid(
      () => decodeAssignmentSnapshot(encodeAssignmentSnapshot(snapshot()), { deviceId: 'box-2' }),
      /device_id/,
    );
  });

  it('refuses a candidate without a mode, a split above 100 % and a short signature', () => {
    const s = snapshot();
    const yard = s.cameras[1]!;
    expectInvalid(
      () => encodeAssignmentSnapshot({ ...s, cameras: [s.cameras[0]!, { ...yard, candidateMode: undefined }] }),
      /cameras\[1\]\.candidate_mode/,
    );
    expectInvalid(
      () => encodeAssignmentSnapshot({ ...s, cameras: [s.cameras[0]!, { ...yard, splitBasisPoints: 10_001 }] }),
      /split_basis_points/,
    );
    expectInvalid(
      () =>
        encodeAssignmentSnapshot({
          ...s,
          cameras: [{ ...s.cameras[0]!, primary: descriptor({ signature: new Uint8Array(10) }) }, yard],
        }),
      /primary\.signature/,
    );
  });

  it('refuses a snapshot revision that is not the highest camera revision', () => {
    expectInvalid(() => encodeAssignmentSnapshot({ ...snapshot(), revision: 3 }), /revision/);
  });

  it('names a missing primary when a raw snapshot lacks it', () => {
    const raw = FleetV1.AssignmentSnapshot.encode({
      deviceId: 'box-1',
      revision: 1,
      sentAtMs: 5,
      cameras: [{ cameraId: 'gate', revision: 1 }],
    }).finish();
    expectInvalid(() => decodeAssignmentSnapshot(raw), /cameras\[0\]\.primary/);
  });

  it('round-trips watch requests, download requests, chunks and status reports', () => {
    const w = {
      deviceId: 'box-1',
      knownRevision: 3,
      agentVersion: '0.1.0',
      hardware: 'linux-x64',
      providers: ['cpu'],
      cameras: [{ cameraId: 'gate', source: 'rtsp://10.0.0.2/s' }],
    };
    assert.deepEqual(decodeWatchAssignmentsRequest(encodeWatchAssignmentsRequest(w)), w);
    const d = { sha256: 'e'.repeat(64), offset: 1024, chunkBytes: 65536 };
    assert.deepEqual(decodeDownloadModelRequest(encodeDownloadModelRequest(d)), d);
    const c = { offset: 10, data: new Uint8Array([1, 2, 3]), totalBytes: 13 };
    assert.deepEqual(decodeModelChunk(encodeModelChunk(c)), c);
    assert.deepEqual(decodeModelStatusReport(encodeModelStatusReport(report())), report());
  });

  it('refuses a chunk that runs past the artifact and a report with an unknown state', () => {
    expectInvalid(() => encodeModelChunk({ offset: 10, data: new Uint8Array(4), totalBytes: 13 }), /data/);
    expectInvalid(() => encodeModelStatusReport(report({ state: 'exploded' as never })), /state/);
    expectInvalid(() => encodeDownloadModelRequest({ sha256: 'xyz', offset: 0, chunkBytes: 0 }), /sha256/);
  });

  it('gives the server raw request bytes and the client decoded responses', () => {
    const bytes = FLEET_CONTROL_CLIENT_DEFINITION.reportModelStatus.requestSerialize(report());
    const raw = FLEET_CONTROL_SERVER_DEFINITION.reportModelStatus.requestDeserialize(bytes);
    assert.ok(Buffer.isBuffer(raw));
    assert.deepEqual(decodeModelStatusReport(raw as unknown as Buffer), report());
    assert.equal(FLEET_CONTROL_SERVER_DEFINITION.watchAssignments.path, '/fleet.v1.FleetControl/WatchAssignments');
    assert.equal(FLEET_CONTROL_SERVER_DEFINITION.watchAssignments.responseStream, true);
    assert.equal(FLEET_CONTROL_SERVER_DEFINITION.reportModelStatus.responseStream, false);
    const snap = FLEET_CONTROL_SERVER_DEFINITION.watchAssignments.responseSerialize(snapshot());
    assert.deepEqual(FLEET_CONTROL_CLIENT_DEFINITION.watchAssignments.responseDeserialize(snap), snapshot());
  });
});

describe('pre-encoded chunks', () => {
  it('go out of the server view as they are and decode on the client like any chunk', () => {
    const chunk = { offset: 4, data: new Uint8Array([9, 8, 7]), totalBytes: 7 };
    const encoded = encodeModelChunkMessage(chunk);
    const wire = FLEET_CONTROL_SERVER_DEFINITION.downloadModel.responseSerialize(encoded);
    assert.deepEqual(new Uint8Array(wire), new Uint8Array(encoded.bytes));
    assert.deepEqual(FLEET_CONTROL_CLIENT_DEFINITION.downloadModel.responseDeserialize(wire), chunk);
    assert.deepEqual(
      new Uint8Array(FLEET_CONTROL_SERVER_DEFINITION.downloadModel.responseSerialize(chunk)),
      new Uint8Array(encoded.bytes),
    );
  });

  it('are validated when they are made', () => {
    expectInvalid(() => encodeModelChunkMessage({ offset: 6, data: new Uint8Array(3), totalBytes: 7 }), /data/);
  });
});

describe('model signature payload', () => {
  it('binds sha256, size, id, version and serial, and verifies with ed25519', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const d = descriptor();
    const payload = modelSignaturePayload(d);
    assert.equal(payload.toString(), `edgefleet-model-signature-v1\n${'a'.repeat(64)}\n1234\nedgefleet-base\n2\n7`);
    const signature = sign(null, payload, privateKey);
    assert.ok(verify(null, payload, publicKey, signature));
    assert.ok(
      !verify(null, modelSignaturePayload({ ...d, serial: 6 }), publicKey, signature),
      'a changed serial breaks the signature',
    );
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    assert.match(signingKeyId(raw), /^[0-9a-f]{16}$/);
  });

  it('refuses ids with line breaks', () => {
    assert.throws(() => modelSignaturePayload(descriptor({ version: '1\n2' })), /line break/);
  });
});
