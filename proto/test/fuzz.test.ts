import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ProtoError,
  decodeDetectionBatch,
  decodeDeviceMetrics,
  decodeDeviceStatus,
  encodeDetectionBatch,
  encodeDeviceStatus,
} from '../src/index.js';
import { batch, prng, status } from './fixtures.js';

/**
 * Whatever arrives on a topic, a decoder either returns a valid message or throws a ProtoError: the ingest
 * relies on that to reject and count bad payloads without a catch-all. Seeds are fixed so a failure replays.
 */

const decoders = { decodeDetectionBatch, decodeDeviceStatus, decodeDeviceMetrics };

function onlyProtoErrors(payload: Uint8Array, label: string): 'ok' | ProtoError['code'] {
  let result: 'ok' | ProtoError['code'] = 'ok';
  for (const [name, decode] of Object.entries(decoders)) {
    try {
      decode(payload);
    } catch (err) {
      assert.ok(err instanceof ProtoError, `${name}(${label}) threw ${String(err)} instead of a ProtoError`);
      if (name === 'decodeDetectionBatch') result = err.code;
    }
  }
  return result;
}

describe('decoders under garbage input', () => {
  it('throw nothing but ProtoError for random bytes of random lengths', () => {
    const random = prng(1);
    const codes = new Map<string, number>();
    for (let n = 0; n < 3000; n++) {
      const bytes = new Uint8Array(Math.floor(random() * 300));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
      const code = onlyProtoErrors(bytes, `seed 1 case ${n}`);
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    // Random bytes mostly fail to parse; the rest parse and fail validation. Both paths are exercised.
    assert.ok((codes.get('PROTO_ERR_DECODE') ?? 0) > 0, JSON.stringify([...codes]));
    assert.ok((codes.get('PROTO_ERR_INVALID') ?? 0) > 0, JSON.stringify([...codes]));
  });

  it('throw nothing but ProtoError for valid payloads with flipped, cut or spliced bytes', () => {
    const random = prng(2);
    const seeds = [encodeDetectionBatch(batch()), encodeDeviceStatus(status())];
    for (let n = 0; n < 3000; n++) {
      const base = seeds[n % seeds.length]!;
      let bytes = Uint8Array.from(base);
      const op = n % 3;
      if (op === 0) {
        for (let k = 0; k < 1 + Math.floor(random() * 4); k++) {
          const at = Math.floor(random() * bytes.length);
          bytes[at] = (bytes[at] ?? 0) ^ (1 << Math.floor(random() * 8));
        }
      } else if (op === 1) {
        bytes = bytes.subarray(0, Math.floor(random() * bytes.length));
      } else {
        const at = Math.floor(random() * bytes.length);
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...base.subarray(Math.floor(random() * base.length))]);
      }
      onlyProtoErrors(bytes, `seed 2 case ${n}`);
    }
  });

  it('accept the empty payload only as an error', () => {
    assert.throws(() => decodeDetectionBatch(new Uint8Array(0)), { code: 'PROTO_ERR_INVALID', field: 'device_id' });
    assert.throws(() => decodeDeviceStatus(new Uint8Array(0)), { code: 'PROTO_ERR_INVALID', field: 'device_id' });
    assert.throws(() => decodeDeviceMetrics(new Uint8Array(0)), { code: 'PROTO_ERR_INVALID', field: 'device_id' });
  });
});
