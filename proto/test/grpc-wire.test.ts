import assert from 'node:assert/strict';
import { test } from 'node:test';
import { frameGrpcMessage, GRPC_FRAME_HEADER_BYTES, GrpcMessageReader } from '../src/grpc-wire.js';
import { isProtoError } from '../src/proto-error.js';

function body(messages: readonly Buffer[]): Buffer {
  return Buffer.concat(messages.map((m) => frameGrpcMessage(m)));
}

/** Feeds `bytes` in pieces of `size` and returns copies of the messages (each is valid only in the callback). */
function read(bytes: Buffer, size: number, max = 1 << 20): { messages: Buffer[]; reader: GrpcMessageReader } {
  const messages: Buffer[] = [];
  const reader = new GrpcMessageReader(max, (m) => messages.push(Buffer.from(m)));
  for (let i = 0; i < bytes.length; i += size) reader.push(bytes.subarray(i, i + size));
  return { messages, reader };
}

test('frameGrpcMessage: flag 0, big-endian length, then the payload', () => {
  const framed = frameGrpcMessage(Buffer.from('abc'));
  assert.equal(GRPC_FRAME_HEADER_BYTES, 5);
  assert.deepEqual([...framed], [0, 0, 0, 0, 3, 97, 98, 99]);
});

test('GrpcMessageReader gives back every message whatever the pieces (headers and messages split anywhere, empty messages)', () => {
  const messages = [
    Buffer.from('first'),
    Buffer.alloc(0),
    Buffer.alloc(70_000, 3),
    Buffer.from('x'),
    Buffer.alloc(0),
    Buffer.alloc(16_389, 9),
  ];
  const bytes = body(messages);
  for (const size of [1, 2, 4, 5, 6, 7, 13, 1000, 16_384, 65_536, bytes.length]) {
    const { messages: got, reader } = read(bytes, size);
    assert.equal(got.length, messages.length, `pieces of ${size}`);
    got.forEach((m, i) => {
      assert.ok(m.equals(messages[i]!), `message ${i} in pieces of ${size}`);
    });
    assert.ok(reader.atBoundary);
  }
});

test('GrpcMessageReader hands a message lying within one piece over as a view of it, and knows when it is inside one', () => {
  const bytes = body([Buffer.from('hello')]);
  let view: Buffer | null = null;
  const reader = new GrpcMessageReader(100, (m) => (view = m));
  reader.push(bytes);
  assert.equal((view as Buffer | null)?.buffer, bytes.buffer, 'no copy');
  reader.push(bytes.subarray(0, 3));
  assert.equal(reader.atBoundary, false, 'inside a header');
  reader.push(bytes.subarray(3, 7));
  assert.equal(reader.atBoundary, false, 'inside a message');
  reader.push(bytes.subarray(7));
  assert.ok(reader.atBoundary);
});

test('GrpcMessageReader refuses a compressed message and one above its limit (PROTO_ERR_DECODE)', () => {
  const compressed = frameGrpcMessage(Buffer.from('zz'));
  compressed[0] = 1;
  assert.throws(
    () => new GrpcMessageReader(100, () => assert.fail('no message')).push(compressed),
    (e: unknown) => isProtoError(e) && e.code === 'PROTO_ERR_DECODE' && /compressed/.test(e.message),
  );
  const big = frameGrpcMessage(Buffer.alloc(101));
  assert.throws(
    () => new GrpcMessageReader(100, () => assert.fail('no message')).push(big.subarray(0, 5)),
    (e: unknown) => isProtoError(e) && /101 bytes is above the 100-byte limit/.test(e.message),
  );
});
