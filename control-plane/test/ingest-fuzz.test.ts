import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import protobuf from 'protobufjs';
import type { MqttClient } from 'mqtt';
import {
  TELEMETRY_PROTO_PATH,
  encodeDetectionBatch,
  metricsTopic,
  statusTopic,
  type DetectionBatch,
} from '@edgefleet/proto';
import {
  STORE_KINDS,
  connectDevice,
  detectionsTopic,
  lifo,
  makeBatch,
  openTestStore,
  publishAcked,
  startControlPlane,
  uniqueId,
} from './ingest-test-kit.js';

/**
 * ≥ 10,000 random or malformed payloads on a device's detections topic through the embedded broker.
 * Every payload is built to be unacceptable (so the expected count of rejections is exact): random
 * bytes, truncations and device-id corruptions of valid batches, contract violations encoded raw (with
 * protobufjs, bypassing the validating encoder), unstorable text and oversized payloads.
 */

const MAX_PAYLOAD = 64 * 1024;

/** xorshift32: reproducible fuzz input. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

const BatchType = protobuf.loadSync(TELEMETRY_PROTO_PATH).lookupType('fleet.v1.DetectionBatch');

/** Encodes without the contract checks, as a broken or hostile producer would. */
function raw(batch: Record<string, unknown>): Buffer {
  return Buffer.from(BatchType.encode(BatchType.fromObject(batch)).finish());
}

type Mut = {
  -readonly [K in keyof DetectionBatch]: DetectionBatch[K] extends readonly (infer U)[]
    ? Record<string, unknown>[] & U[]
    : DetectionBatch[K];
};

function plain(b: DetectionBatch): Mut {
  return structuredClone(b) as unknown as Mut;
}

/** Valid image statistics of a frame, with some values replaced. */
function imageStats(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    brightness: 0.5,
    contrast: 0.2,
    sharpness: 0.01,
    saturation: 0.3,
    lumaGrid: Array(16).fill(0.5),
    ...overrides,
  };
}

/** Each turns a valid batch (2+ frames, 2 detections each) into one the ingest must refuse, and names the reason. */
const CONTRACT_VIOLATIONS: { name: string; reason: string; apply: (b: Mut, other: string) => void }[] = [
  {
    name: 'score NaN',
    reason: 'invalid',
    apply: (b) => void ((b.detections[0] as Record<string, unknown>).score = NaN),
  },
  {
    name: 'score above 1',
    reason: 'invalid',
    apply: (b) => void ((b.detections[1] as Record<string, unknown>).score = 1.5),
  },
  {
    name: 'score negative',
    reason: 'invalid',
    apply: (b) => void ((b.detections[0] as Record<string, unknown>).score = -0.25),
  },
  { name: 'box inverted', reason: 'invalid', apply: (b) => void ((b.detections[0] as Record<string, unknown>).x2 = 1) },
  {
    name: 'box infinite',
    reason: 'invalid',
    apply: (b) => void ((b.detections[0] as Record<string, unknown>).y2 = Infinity),
  },
  { name: 'seq zero', reason: 'invalid', apply: (b) => void ((b.detections[0] as Record<string, unknown>).seq = 0) },
  {
    name: 'duplicate seq',
    reason: 'invalid',
    apply: (b) =>
      void ((b.detections[1] as Record<string, unknown>).seq = (b.detections[0] as Record<string, unknown>).seq),
  },
  {
    name: 'frame missing',
    reason: 'invalid',
    apply: (b) => void ((b.detections[0] as Record<string, unknown>).frameSeq = 999_999),
  },
  {
    name: 'detection count wrong',
    reason: 'invalid',
    apply: (b) => void ((b.frames[0] as Record<string, unknown>).detectionCount = 7),
  },
  {
    name: 'camera id with slash',
    reason: 'invalid',
    apply: (b) => void ((b.frames[0] as Record<string, unknown>).cameraId = 'cam/1'),
  },
  {
    name: 'arm unknown',
    reason: 'invalid',
    apply: (b) => void ((b.frames[0] as Record<string, unknown>).arm = 'bogus'),
  },
  {
    name: 'model id empty',
    reason: 'invalid',
    apply: (b) => void ((b.frames[0] as Record<string, unknown>).modelId = ''),
  },
  {
    name: 'label too long',
    reason: 'invalid',
    apply: (b) => void ((b.detections[0] as Record<string, unknown>).label = 'x'.repeat(300)),
  },
  {
    name: 'timestamp zero',
    reason: 'invalid',
    apply: (b) => void ((b.frames[0] as Record<string, unknown>).timestampMs = 0),
  },
  {
    name: 'seq above 2^53',
    reason: 'invalid',
    apply: (b) => void ((b.detections[0] as Record<string, unknown>).seq = '9007199254740993'),
  },
  {
    name: 'image statistics with NaN brightness',
    reason: 'invalid',
    apply: (b) => void ((b.frames[0] as Record<string, unknown>).imageStats = imageStats({ brightness: NaN })),
  },
  {
    name: 'image statistics with sharpness above 16',
    reason: 'invalid',
    apply: (b) => void ((b.frames[1] as Record<string, unknown>).imageStats = imageStats({ sharpness: 100 })),
  },
  {
    name: 'image statistics with a luma grid of 15 cells',
    reason: 'invalid',
    apply: (b) =>
      void ((b.frames[0] as Record<string, unknown>).imageStats = imageStats({ lumaGrid: Array(15).fill(0.5) })),
  },
  {
    name: 'no frames',
    reason: 'invalid',
    apply: (b) => {
      b.frames = [];
      b.detections = [];
    },
  },
  { name: 'sent_at zero', reason: 'invalid', apply: (b) => void (b.sentAtMs = 0) },
  { name: 'device id invalid', reason: 'invalid', apply: (b) => void (b.deviceId = 'no spaces allowed') },
  { name: 'another device', reason: 'device-mismatch', apply: (b, other) => void (b.deviceId = other) },
  {
    name: 'NUL in label',
    reason: 'unstorable',
    apply: (b) => void ((b.detections[0] as Record<string, unknown>).label = 'per\u0000son'),
  },
  {
    name: 'NUL in model version',
    reason: 'unstorable',
    apply: (b) => void ((b.frames[1] as Record<string, unknown>).modelVersion = '1\u00000'),
  },
];

interface FuzzCase {
  readonly payload: Buffer;
  /** Expected reason when it is certain; null when it depends on the bytes (decode or invalid). */
  readonly reason: string | null;
}

function fuzzCases(device: string, count: number, seed: number): FuzzCase[] {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const cases: FuzzCase[] = [];
  const valid = (i: number) =>
    makeBatch(device, 'cam-1', { firstFrameSeq: 1 + i * 4, frames: 2 + int(3), perFrame: 2 });
  for (let i = 0; cases.length < count; i++) {
    const kind = i % 10;
    if (kind < 4) {
      // Random bytes, 0..1500 long (0 decodes to an all-default message, which is invalid).
      const bytes = Buffer.alloc(int(1500));
      for (let k = 0; k < bytes.length; k++) bytes[k] = int(256);
      cases.push({ payload: bytes, reason: null });
    } else if (kind < 6) {
      // Truncated valid batch: every frame has detections, so any prefix loses a frame or a detection.
      const full = Buffer.from(encodeDetectionBatch(valid(i)));
      cases.push({ payload: full.subarray(0, int(full.length)), reason: null });
    } else if (kind === 6) {
      // One bit of the device id (or its length prefix) flipped: another device, an invalid id, or undecodable.
      const full = Buffer.from(encodeDetectionBatch(valid(i)));
      const at = 1 + int(device.length + 1); // bytes 1..len: length prefix, then the id
      full[at] = (full[at] as number) ^ (1 << int(8));
      cases.push({ payload: full, reason: null });
    } else if (kind < 9) {
      const v = CONTRACT_VIOLATIONS[i % CONTRACT_VIOLATIONS.length]!;
      const b = plain(valid(i));
      v.apply(b, `${device}-other`);
      cases.push({ payload: raw(b as unknown as Record<string, unknown>), reason: v.reason });
    } else if (i % 50 === 9) {
      // Valid but above the configured payload limit.
      const big = Buffer.from(
        encodeDetectionBatch(makeBatch(device, 'cam-1', { firstFrameSeq: 1, frames: 400, perFrame: 4 })),
      );
      assert.ok(big.length > MAX_PAYLOAD);
      cases.push({ payload: big, reason: 'oversized' });
    } else {
      cases.push({ payload: Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256))), reason: null });
    }
  }
  return cases;
}

/** Publishes every payload with QoS 1, `window` unacknowledged at a time, and waits for all PUBACKs. */
async function publishAll(client: MqttClient, topic: string, payloads: readonly Buffer[], window = 200): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < payloads.length) {
      const payload = payloads[next++] as Buffer;
      await publishAcked(client, topic, payload);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
}

for (const kind of STORE_KINDS) {
  describe(`ingest fuzz (${kind})`, () => {
    test('10,000 malformed detection payloads: no crash, no row, each one acknowledged and counted as rejected', async (tc) => {
      const t = lifo(tc);
      const { store } = await openTestStore(t, kind);
      const cp = await startControlPlane(t, store, { ingest: { maxPayloadBytes: MAX_PAYLOAD } });
      const device = uniqueId('fuzz');
      const client = await connectDevice(t, cp, device);
      const cases = fuzzCases(device, 10_000, 0x5eed + (kind === 'pglite' ? 1 : 0));
      await publishAll(
        client,
        detectionsTopic(device),
        cases.map((c) => c.payload),
      );

      const stats = cp.stats.snapshot();
      assert.equal(stats.received.detections, 10_000);
      assert.equal(stats.rejectedTotal, 10_000, JSON.stringify(stats.rejected));
      assert.equal(stats.stored.detections, 0);
      assert.equal(stats.abandoned, 0);
      const expect = (reason: string) => cases.filter((c) => c.reason === reason).length;
      assert.ok(
        expect('oversized') > 0 && expect('unstorable') > 0 && expect('device-mismatch') > 0,
        'the generator covers every reason',
      );
      assert.equal(stats.rejected.oversized, expect('oversized'));
      assert.equal(stats.rejected.unstorable, expect('unstorable'));
      assert.ok(stats.rejected['device-mismatch'] >= expect('device-mismatch'));
      assert.ok(stats.rejected.decode > 0 && stats.rejected.invalid > 0);
      assert.equal(stats.rejected['db-rejected'], 0, 'every bad payload was caught before the database');
      assert.equal(await store.countDetections(), 0);
      assert.equal(await store.countFrames(), 0);
      // The connection survived every rejection, and a valid batch still goes through.
      assert.equal(client.connected, true);
      await publishAcked(
        client,
        detectionsTopic(device),
        encodeDetectionBatch(makeBatch(device, 'cam-1', { firstFrameSeq: 1, frames: 2, perFrame: 3 })),
      );
      assert.equal(await store.countDetections({ deviceId: device }), 6);
    });

    test('random status and metrics payloads are rejected and counted too', async (tc) => {
      const t = lifo(tc);
      const { store } = await openTestStore(t, kind);
      const cp = await startControlPlane(t, store, { ingest: { maxPayloadBytes: MAX_PAYLOAD } });
      const device = uniqueId('fuzz');
      const client = await connectDevice(t, cp, device);
      const rand = prng(77);
      const junk = Array.from({ length: 500 }, () =>
        Buffer.from(Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256))),
      );
      await publishAll(client, statusTopic(device), junk);
      await publishAll(client, metricsTopic(device), junk);
      const stats = cp.stats.snapshot();
      assert.equal(stats.received.status + stats.received.metrics, 1000);
      assert.equal(stats.rejectedTotal, 1000);
      const record = await store.getDevice(device);
      assert.equal(record?.status, null);
      assert.equal(record?.metrics, null);
    });
  });
}
