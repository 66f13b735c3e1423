import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import { DEFAULT_MAX_PAYLOAD_BYTES, MAX_BATCH_FRAMES } from '../src/limits.js';
import { PROTO_ERRORS, ProtoError } from '../src/proto-error.js';
import { TELEMETRY_PROTO_PATH } from '../src/schema.js';
import { batchHeaderWireSize, detectionWireSize, frameWireSize } from '../src/wire-size.js';
import {
  decodeDetectionBatch,
  decodeDeviceMetrics,
  decodeDeviceStatus,
  encodeDetectionBatch,
  encodeDeviceMetrics,
  encodeDeviceStatus,
} from '../src/telemetry-codecs.js';
import type { DetectionBatch, DeviceMetrics, DeviceStatus, ImageStats } from '../src/telemetry-messages.js';
import { FleetV1 } from '../src/schema.js';
import { batch, detection, frame, metrics, prng, status } from './fixtures.js';

type Mutable<T> = {
  -readonly [K in keyof T]: T[K] extends readonly (infer U)[]
    ? Mutable<U>[]
    : T[K] extends object
      ? Mutable<T[K]>
      : T[K];
};
const copy = <T>(v: T): Mutable<T> => structuredClone(v) as Mutable<T>;

/** Valid image statistics, with some values replaced. */
function stats(overrides: Partial<ImageStats>): ImageStats {
  return {
    brightness: 0.5,
    contrast: 0.2,
    sharpness: 0.01,
    saturation: 0.3,
    lumaGrid: Array(16).fill(0.5),
    ...overrides,
  };
}

/** Encodes without validation, as a broken or hostile producer would. */
function rawEncode(type: protobuf.Type, message: object): Uint8Array {
  return type.encode(message).finish();
}

function expectProtoError(fn: () => unknown, code: ProtoError['code'], field?: string, message?: RegExp): ProtoError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ProtoError, `expected ProtoError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (field !== undefined) assert.equal(err.field, field, err.message);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected ${code}${field ? ` on ${field}` : ''}`);
}

describe('DetectionBatch codec', () => {
  it('roundtrips every field, uint64 values up to 2^53 - 1 included', () => {
    const b = copy(batch());
    b.batchId = Number.MAX_SAFE_INTEGER;
    b.frames[0]!.frameSeq = 2 ** 40;
    b.detections[0]!.frameSeq = 2 ** 40;
    b.detections[1]!.frameSeq = 2 ** 40;
    b.detections[0]!.seq = Number.MAX_SAFE_INTEGER;
    const decoded = decodeDetectionBatch(encodeDetectionBatch(b), { deviceId: 'dev-1' });
    assert.deepEqual(decoded, b);
  });

  it('roundtrips image statistics as 32-bit floats, and a frame without them decodes without them', () => {
    const b = copy(batch());
    const lumaGrid = Array.from({ length: 16 }, (_, i) => i / 15);
    b.frames[1]!.imageStats = { brightness: 0.1, contrast: 0.25, sharpness: 15.9, saturation: 1, lumaGrid };
    const decoded = decodeDetectionBatch(encodeDetectionBatch(b), { deviceId: 'dev-1' });
    assert.deepEqual(decoded.frames[1]!.imageStats, {
      brightness: Math.fround(0.1),
      contrast: 0.25,
      sharpness: Math.fround(15.9),
      saturation: 1,
      lumaGrid: lumaGrid.map(Math.fround),
    });
    // Absent stays absent (an older agent, or a frame the agent has no statistics for): no key at all.
    assert.equal('imageStats' in decoded.frames[0]!, false);
    assert.deepEqual(decoded.frames[0], b.frames[0]);
  });

  it('carries scores and boxes as 32-bit floats', () => {
    const b = copy(batch());
    b.detections[0]!.score = 0.1;
    b.detections[0]!.x2 = 100.1;
    const d = decodeDetectionBatch(encodeDetectionBatch(b)).detections[0]!;
    assert.equal(d.score, Math.fround(0.1));
    assert.equal(d.x2, Math.fround(100.1));
  });

  it('computes the exact encoded size from its parts', () => {
    const random = prng(7);
    for (let n = 0; n < 20; n++) {
      const frames = [];
      const detections = [];
      let seq = Math.floor(random() * 2 ** 50);
      for (let f = 1; f <= 1 + Math.floor(random() * 20); f++) {
        const count = Math.floor(random() * 5);
        const frameSeq = f * Math.floor(1 + random() * 1e9);
        const plain = { ...frame(random() < 0.5 ? 'cam-a' : 'gate_north', frameSeq, count), modelVersion: 'v-ü' };
        const lumaGrid = Array.from({ length: 16 }, () => random());
        const stats = { brightness: random(), contrast: 0, sharpness: random() * 16, saturation: random(), lumaGrid };
        frames.push(random() < 0.5 ? { ...plain, imageStats: stats } : plain);
        for (let i = 0; i < count; i++)
          detections.push({ ...detection(frames[frames.length - 1]!.cameraId, ++seq, frameSeq), label: 'läbel' });
      }
      const b: DetectionBatch = {
        deviceId: 'dev.1',
        batchId: Math.floor(random() * 1e12),
        sentAtMs: Date.now(),
        frames,
        detections,
      };
      const expected =
        batchHeaderWireSize(b.deviceId, b.batchId, b.sentAtMs) +
        frames.reduce((s, f) => s + frameWireSize(f), 0) +
        detections.reduce((s, d) => s + detectionWireSize(d), 0);
      assert.equal(encodeDetectionBatch(b).length, expected);
    }
  });

  it('decodes with the .proto shipped in the package', () => {
    assert.ok(TELEMETRY_PROTO_PATH.endsWith(join('fleet', 'v1', 'telemetry.proto')));
    assert.match(readFileSync(TELEMETRY_PROTO_PATH, 'utf8'), /message DetectionBatch/);
  });

  it('skips unknown fields, so additive changes stay compatible', () => {
    const payload = encodeDetectionBatch(batch());
    // Field 99, length-delimited, as a newer producer might add.
    const extra = protobuf.Writer.create()
      .uint32((99 << 3) | 2)
      .string('from the future')
      .finish();
    const decoded = decodeDetectionBatch(Buffer.concat([payload, extra]));
    assert.deepEqual(decoded, batch());
  });

  describe('validation (each broken rule rejected with its field)', () => {
    const cases: Array<[string, (b: Mutable<DetectionBatch>) => void, string]> = [
      ['empty device id', (b) => void (b.deviceId = ''), 'device_id'],
      ['device id with a topic separator', (b) => void (b.deviceId = 'dev/1'), 'device_id'],
      ['device id with a wildcard', (b) => void (b.deviceId = 'dev+1'), 'device_id'],
      ['missing sent_at_ms', (b) => void (b.sentAtMs = 0), 'sent_at_ms'],
      [
        'no frames',
        (b) => {
          b.frames = [];
          b.detections = [];
        },
        'frames',
      ],
      ['empty camera id', (b) => void (b.frames[1]!.cameraId = ''), 'frames[1].camera_id'],
      ['camera id with a slash', (b) => void (b.frames[1]!.cameraId = 'back/1'), 'frames[1].camera_id'],
      ['camera id of 65 characters', (b) => void (b.frames[1]!.cameraId = 'c'.repeat(65)), 'frames[1].camera_id'],
      ['frame_seq 0', (b) => void (b.frames[2]!.frameSeq = 0), 'frames[2].frame_seq'],
      ['missing timestamp', (b) => void (b.frames[0]!.timestampMs = 0), 'frames[0].timestamp_ms'],
      ['empty model id', (b) => void (b.frames[0]!.modelId = ''), 'frames[0].model_id'],
      ['empty model version', (b) => void (b.frames[0]!.modelVersion = ''), 'frames[0].model_version'],
      ['unknown arm', (b) => void (b.frames[0]!.arm = 'left' as 'primary'), 'frames[0].arm'],
      ['duplicate frame', (b) => void (b.frames[2]!.frameSeq = 1), 'frames[2].frame_seq'],
      ['detection seq 0', (b) => void (b.detections[0]!.seq = 0), 'detections[0].seq'],
      ['detection frame_seq 0', (b) => void (b.detections[0]!.frameSeq = 0), 'detections[0].frame_seq'],
      [
        'detection of a frame not in the batch',
        (b) => void (b.detections[2]!.frameSeq = 99),
        'detections[2].frame_seq',
      ],
      ['detection of another camera', (b) => void (b.detections[2]!.cameraId = 'side'), 'detections[2].frame_seq'],
      ['duplicate detection seq', (b) => void (b.detections[1]!.seq = 1), 'detections[1].seq'],
      ['score above 1', (b) => void (b.detections[0]!.score = 1.5), 'detections[0].score'],
      ['negative score', (b) => void (b.detections[0]!.score = -0.25), 'detections[0].score'],
      ['NaN score', (b) => void (b.detections[0]!.score = NaN), 'detections[0].score'],
      ['infinite coordinate', (b) => void (b.detections[0]!.x1 = -Infinity), 'detections[0].x1'],
      ['x2 < x1', (b) => void (b.detections[1]!.x2 = 1), 'detections[1].x2'],
      ['y2 < y1', (b) => void (b.detections[1]!.y2 = 1), 'detections[1].y2'],
      ['label over 256 characters', (b) => void (b.detections[0]!.label = 'x'.repeat(257)), 'detections[0].label'],
      [
        'NaN brightness',
        (b) => void (b.frames[0]!.imageStats = stats({ brightness: NaN })),
        'frames[0].image_stats.brightness',
      ],
      [
        'contrast above 1',
        (b) => void (b.frames[0]!.imageStats = stats({ contrast: 1.5 })),
        'frames[0].image_stats.contrast',
      ],
      [
        'negative sharpness',
        (b) => void (b.frames[1]!.imageStats = stats({ sharpness: -1 })),
        'frames[1].image_stats.sharpness',
      ],
      [
        'sharpness above 16',
        (b) => void (b.frames[1]!.imageStats = stats({ sharpness: 17 })),
        'frames[1].image_stats.sharpness',
      ],
      [
        'infinite saturation',
        (b) => void (b.frames[2]!.imageStats = stats({ saturation: Infinity })),
        'frames[2].image_stats.saturation',
      ],
      [
        'luma grid of 15 cells',
        (b) => void (b.frames[0]!.imageStats = stats({ lumaGrid: Array(15).fill(0.5) })),
        'frames[0].image_stats.luma_grid',
      ],
      [
        'luma grid of 17 cells',
        (b) => void (b.frames[0]!.imageStats = stats({ lumaGrid: Array(17).fill(0.5) })),
        'frames[0].image_stats.luma_grid',
      ],
      [
        'empty luma grid',
        (b) => void (b.frames[0]!.imageStats = stats({ lumaGrid: [] })),
        'frames[0].image_stats.luma_grid',
      ],
      [
        'NaN luma cell',
        (b) => void (b.frames[0]!.imageStats = stats({ lumaGrid: [...Array(15).fill(0.5), NaN] })),
        'frames[0].image_stats.luma_grid[15]',
      ],
      [
        'luma cell above 1',
        (b) => void (b.frames[0]!.imageStats = stats({ lumaGrid: [2, ...Array(15).fill(0.5)] })),
        'frames[0].image_stats.luma_grid[0]',
      ],
      [
        'detection_count larger than carried',
        (b) => void (b.frames[0]!.detectionCount = 3),
        'frames[0].detection_count',
      ],
      [
        'detection_count smaller than carried',
        (b) => void (b.frames[0]!.detectionCount = 1),
        'frames[0].detection_count',
      ],
    ];
    for (const [name, mutate, field] of cases) {
      it(`${name} → PROTO_ERR_INVALID on ${field}, when encoding and when decoding`, () => {
        const b = copy(batch());
        mutate(b);
        expectProtoError(
          () => encodeDetectionBatch(b),
          'PROTO_ERR_INVALID',
          field,
          new RegExp(`: ${field.replace(/[[\].]/g, '\\$&')}: `),
        );
        const payload = rawEncode(FleetV1.DetectionBatch, b);
        expectProtoError(() => decodeDetectionBatch(payload), 'PROTO_ERR_INVALID', field);
      });
    }

    it('rejects values the wire cannot carry before encoding (unsafe, negative, fractional, wrong type)', () => {
      const unsafe = copy(batch());
      unsafe.frames[0]!.frameSeq = 2 ** 53;
      expectProtoError(
        () => encodeDetectionBatch(unsafe),
        'PROTO_ERR_INVALID',
        'frames[0].frame_seq',
        /safe unsigned integer/,
      );
      const negative = copy(batch());
      negative.batchId = -1;
      expectProtoError(() => encodeDetectionBatch(negative), 'PROTO_ERR_INVALID', 'batch_id');
      const fraction = copy(batch());
      fraction.detections[0]!.seq = 1.5;
      expectProtoError(() => encodeDetectionBatch(fraction), 'PROTO_ERR_INVALID', 'detections[0].seq');
      const wide = copy(batch());
      wide.detections[0]!.classId = 2 ** 32;
      expectProtoError(() => encodeDetectionBatch(wide), 'PROTO_ERR_INVALID', 'detections[0].class_id');
      const typed = copy(batch()) as unknown as { detections: { label: unknown }[] };
      typed.detections[0]!.label = 7;
      expectProtoError(
        () => encodeDetectionBatch(typed as unknown as DetectionBatch),
        'PROTO_ERR_INVALID',
        'detections[0].label',
      );
      expectProtoError(() => encodeDetectionBatch(null as unknown as DetectionBatch), 'PROTO_ERR_INVALID', 'batch');
    });

    it('rejects a uint64 above 2^53 - 1 on the wire instead of rounding it', () => {
      const b = copy(batch());
      const payload = rawEncode(FleetV1.DetectionBatch, { ...b, batchId: '9007199254740993' });
      expectProtoError(() => decodeDetectionBatch(payload), 'PROTO_ERR_INVALID', 'batch_id', /exceeds 2\^53 - 1/);
      const seq = rawEncode(FleetV1.DetectionBatch, {
        ...b,
        detections: [{ ...b.detections[0], seq: '18446744073709551615' }],
      });
      expectProtoError(() => decodeDetectionBatch(seq), 'PROTO_ERR_INVALID', 'detections[0].seq');
    });

    it('rejects a batch from another device than the topic names', () => {
      expectProtoError(
        () => decodeDetectionBatch(encodeDetectionBatch(batch()), { deviceId: 'dev-2' }),
        'PROTO_ERR_INVALID',
        'device_id',
        /topic's device "dev-2"/,
      );
    });

    it('rejects more frames than MAX_BATCH_FRAMES', () => {
      const b = copy(batch());
      b.frames = Array.from({ length: MAX_BATCH_FRAMES + 1 }, (_, i) => frame('front', i + 1, 0));
      b.detections = [];
      expectProtoError(() => encodeDetectionBatch(b), 'PROTO_ERR_INVALID', 'frames', /at most 10000/);
      expectProtoError(
        () => decodeDetectionBatch(rawEncode(FleetV1.DetectionBatch, b), { maxBytes: 10_000_000 }),
        'PROTO_ERR_INVALID',
        'frames',
      );
    });
  });

  describe('size limit', () => {
    it('refuses to encode a batch above maxBytes', () => {
      expectProtoError(
        () => encodeDetectionBatch(batch(), { maxBytes: 64 }),
        'PROTO_ERR_TOO_LARGE',
        undefined,
        /limit 64/,
      );
    });

    it('refuses to decode a payload above maxBytes before parsing it', () => {
      const payload = encodeDetectionBatch(batch());
      expectProtoError(() => decodeDetectionBatch(payload, { maxBytes: payload.length - 1 }), 'PROTO_ERR_TOO_LARGE');
      assert.equal(decodeDetectionBatch(payload, { maxBytes: payload.length }).batchId, 42);
      // Garbage of 1 MiB + 1 is refused for its size, not parsed.
      expectProtoError(
        () => decodeDetectionBatch(Buffer.alloc(DEFAULT_MAX_PAYLOAD_BYTES + 1, 0xff)),
        'PROTO_ERR_TOO_LARGE',
      );
    });

    it('rejects a nonsensical maxBytes option as a programming error', () => {
      assert.throws(() => decodeDetectionBatch(new Uint8Array(1), { maxBytes: 0 }), RangeError);
    });
  });

  it('reports undecodable bytes as PROTO_ERR_DECODE', () => {
    expectProtoError(
      () => decodeDetectionBatch(Buffer.from([0x0a, 0x05, 0x61])),
      'PROTO_ERR_DECODE',
      undefined,
      /index out of range/,
    );
    expectProtoError(
      () => decodeDetectionBatch('text' as unknown as Uint8Array),
      'PROTO_ERR_DECODE',
      undefined,
      /must be bytes/,
    );
  });
});

describe('DeviceStatus codec', () => {
  it('roundtrips every field', () => {
    assert.deepEqual(decodeDeviceStatus(encodeDeviceStatus(status()), { deviceId: 'dev-1' }), status());
  });

  it('roundtrips the last-will form (offline, no cameras)', () => {
    const will: DeviceStatus = { ...status(), online: false, cameras: [], providers: [] };
    assert.deepEqual(decodeDeviceStatus(encodeDeviceStatus(will)), will);
  });

  const cases: Array<[string, (s: Mutable<DeviceStatus>) => void, string]> = [
    ['bad device id', (s) => void (s.deviceId = 'a b'), 'device_id'],
    ['missing reported_at_ms', (s) => void (s.reportedAtMs = 0), 'reported_at_ms'],
    ['unknown camera state', (s) => void (s.cameras[0]!.state = 'dancing' as 'running'), 'cameras[0].state'],
    ['bad camera id', (s) => void (s.cameras[0]!.cameraId = '#'), 'cameras[0].camera_id'],
    ['negative fps', (s) => void (s.cameras[0]!.fps = -1), 'cameras[0].fps'],
    ['NaN fps', (s) => void (s.cameras[0]!.fps = NaN), 'cameras[0].fps'],
    ['duplicate camera', (s) => void s.cameras.push({ ...s.cameras[0]! }), 'cameras[1].camera_id'],
    ['empty provider', (s) => void (s.providers[1] = ''), 'providers[1]'],
    [
      'last_error over 2048 characters',
      (s) => void (s.cameras[0]!.lastError = 'e'.repeat(2049)),
      'cameras[0].last_error',
    ],
  ];
  for (const [name, mutate, field] of cases) {
    it(`${name} → PROTO_ERR_INVALID on ${field}`, () => {
      const s = copy(status());
      mutate(s);
      expectProtoError(() => encodeDeviceStatus(s), 'PROTO_ERR_INVALID', field);
      expectProtoError(() => decodeDeviceStatus(rawEncode(FleetV1.DeviceStatus, s)), 'PROTO_ERR_INVALID', field);
    });
  }

  it('rejects a non-boolean online flag before encoding and a foreign device when decoding', () => {
    expectProtoError(
      () => encodeDeviceStatus({ ...status(), online: 'yes' as unknown as boolean }),
      'PROTO_ERR_INVALID',
      'online',
    );
    expectProtoError(
      () => decodeDeviceStatus(encodeDeviceStatus(status()), { deviceId: 'other' }),
      'PROTO_ERR_INVALID',
      'device_id',
    );
  });
});

describe('DeviceMetrics codec', () => {
  it('roundtrips every field', () => {
    assert.deepEqual(decodeDeviceMetrics(encodeDeviceMetrics(metrics()), { deviceId: 'dev-1' }), metrics());
  });

  const cases: Array<[string, (m: Mutable<DeviceMetrics>) => void, string]> = [
    ['bad device id', (m) => void (m.deviceId = ''), 'device_id'],
    ['missing reported_at_ms', (m) => void (m.reportedAtMs = 0), 'reported_at_ms'],
    ['brightness above 1', (m) => void (m.cameras[0]!.brightnessMean = 1.5), 'cameras[0].brightness_mean'],
    ['contrast below 0', (m) => void (m.cameras[0]!.contrastMean = -0.5), 'cameras[0].contrast_mean'],
    ['infinite latency', (m) => void (m.cameras[0]!.inferenceMsP95 = Infinity), 'cameras[0].inference_ms_p95'],
    ['duplicate camera', (m) => void m.cameras.push({ ...m.cameras[0]! }), 'cameras[1].camera_id'],
  ];
  for (const [name, mutate, field] of cases) {
    it(`${name} → PROTO_ERR_INVALID on ${field}`, () => {
      const m = copy(metrics());
      mutate(m);
      expectProtoError(() => encodeDeviceMetrics(m), 'PROTO_ERR_INVALID', field);
      expectProtoError(() => decodeDeviceMetrics(rawEncode(FleetV1.DeviceMetrics, m)), 'PROTO_ERR_INVALID', field);
    });
  }
});

describe('error catalogue', () => {
  it('documents every code in the README', () => {
    const readme = readFileSync(join(dirname(dirname(TELEMETRY_PROTO_PATH)), '..', 'README.md'), 'utf8');
    for (const code of Object.keys(PROTO_ERRORS))
      assert.ok(readme.includes(`\`${code}\``), `${code} is not documented in proto/README.md`);
  });
});

describe('shadow detections', () => {
  it('carry their own model and arm through encode and decode, and the wire size counts them', () => {
    const b = batch();
    const f0 = b.frames[0]!;
    const d0 = b.detections.find((d) => d.frameSeq === f0.frameSeq && d.cameraId === f0.cameraId)!;
    const shadow = { ...d0, modelId: 'cand', modelVersion: '7', arm: 'shadow' as const };
    const withShadow = { ...b, detections: b.detections.map((d) => (d === d0 ? shadow : d)) };
    const bytes = encodeDetectionBatch(withShadow);
    const back = decodeDetectionBatch(bytes);
    const got = back.detections.find((d) => d.seq === d0.seq && d.cameraId === d0.cameraId)!;
    assert.deepEqual([got.modelId, got.modelVersion, got.arm], ['cand', '7', 'shadow']);
    assert.ok(
      back.detections.filter((d) => d !== got).every((d) => d.modelId === undefined && d.arm === undefined),
      'others name no model',
    );
    assert.equal(detectionWireSize(shadow) - detectionWireSize(d0), 1 + 1 + 4 + 1 + 1 + 1 + 1 + 1 + 6);
  });

  it('refuses a detection arm outside the contract', () => {
    const b = batch();
    const d0 = b.detections[0]!;
    expectProtoError(
      () => encodeDetectionBatch({ ...b, detections: [{ ...d0, arm: 'sideways' as never }, ...b.detections.slice(1)] }),
      'PROTO_ERR_INVALID',
      'detections[0].arm',
    );
  });
});
