import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { frameGrpcMessage } from '@edgefleet/proto';
import { inPlaceResponse } from '../src/grpc/in-place-response.js';

/**
 * The control plane's DownloadModel writes cached chunks' gRPC frames onto the HTTP/2 stream under a grpc-js
 * call (a private field of grpc-js). This pins that to the installed grpc-js: if an upgrade moves the
 * field, downloads still work (the handler falls back to `call.write`) but this test fails, so the slower
 * path is not taken unnoticed. It also checks, on a bare grpc-js server and client, that frames written in
 * place arrive between grpc-js' own headers and trailers as ordinary messages, with the call's status.
 */

const identity = (b: Buffer): Buffer => b;
const METHOD = {
  path: '/test.InPlace/Stream',
  requestStream: false,
  responseStream: true,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
};

async function serve(
  handler: grpc.handleServerStreamingCall<Buffer, Buffer>,
  options: grpc.ServerOptions = {},
): Promise<{ client: grpc.Client; close: () => void }> {
  const server = new grpc.Server(options);
  server.addService({ stream: METHOD } as grpc.ServiceDefinition, { stream: handler });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    client,
    close: () => {
      client.close();
      server.forceShutdown();
    },
  };
}

function call(
  client: grpc.Client,
  metadata = new grpc.Metadata(),
): Promise<{ messages: Buffer[]; status: grpc.StatusObject; error: grpc.ServiceError | null }> {
  return new Promise((resolve) => {
    const messages: Buffer[] = [];
    let error: grpc.ServiceError | null = null;
    const stream = client.makeServerStreamRequest(METHOD.path, identity, identity, Buffer.alloc(0), metadata);
    stream.on('data', (m: Buffer) => messages.push(m));
    stream.on('error', (err: grpc.ServiceError) => (error = err));
    stream.on('status', (status: grpc.StatusObject) => setImmediate(() => resolve({ messages, status, error })));
  });
}

test('the installed grpc-js exposes the HTTP/2 stream under a server-streaming call, and frames written there arrive as messages', async (t) => {
  const payloads = [Buffer.from('first'), Buffer.alloc(300_000, 7), Buffer.alloc(0), Buffer.from('last')];
  let found = false;
  const { client, close } = await serve((c) => {
    const raw = inPlaceResponse(c as grpc.ServerWritableStream<unknown, unknown>);
    found = raw !== null;
    if (!raw) {
      c.end();
      return;
    }
    c.sendMetadata(new grpc.Metadata());
    for (const p of payloads) raw.write(frameGrpcMessage(p));
    c.end();
  });
  t.after(close);
  const { messages, status, error } = await call(client);
  assert.ok(
    found,
    'inPlaceResponse found no HTTP/2 stream under the call: grpc-js changed its internals (see in-place-response.ts)',
  );
  assert.equal(error, null);
  assert.equal(status.code, grpc.status.OK);
  assert.deepEqual(
    messages.map((m) => m.length),
    payloads.map((p) => p.length),
  );
  assert.ok(messages[1]!.equals(payloads[1]!));
  assert.equal(messages[3]!.toString(), 'last');
});

test("an error status after frames written in place reaches the client as the call's error", async (t) => {
  const { client, close } = await serve((c) => {
    const raw = inPlaceResponse(c as grpc.ServerWritableStream<unknown, unknown>);
    assert.ok(raw);
    c.sendMetadata(new grpc.Metadata());
    raw.write(frameGrpcMessage(Buffer.from('one')));
    c.emit('error', { code: grpc.status.DATA_LOSS, details: 'store went away' });
  });
  t.after(close);
  const { messages, error } = await call(client);
  assert.deepEqual(
    messages.map((m) => m.toString()),
    ['one'],
  );
  assert.equal(error?.code, grpc.status.DATA_LOSS);
  assert.match(error?.details ?? '', /store went away/);
});

test('a call behind a server interceptor has no stream within reach: null, and call.write still answers', async (t) => {
  let raw: unknown = 'not asked';
  const passThrough: grpc.ServerInterceptor = (_method, call) => new grpc.ServerInterceptingCall(call);
  const { client, close } = await serve(
    (c) => {
      raw = inPlaceResponse(c as grpc.ServerWritableStream<unknown, unknown>);
      c.write(Buffer.from('through grpc-js'));
      c.end();
    },
    { interceptors: [passThrough] },
  );
  t.after(close);
  const { messages, status } = await call(client);
  assert.equal(raw, null);
  assert.equal(status.code, grpc.status.OK);
  assert.deepEqual(
    messages.map((m) => m.toString()),
    ['through grpc-js'],
  );
});

test('inPlaceResponse is null for anything without an HTTP/2 stream underneath (the handler then uses call.write)', () => {
  assert.equal(inPlaceResponse({} as grpc.ServerWritableStream<unknown, unknown>), null);
  assert.equal(inPlaceResponse({ call: {} } as unknown as grpc.ServerWritableStream<unknown, unknown>), null);
  assert.equal(
    inPlaceResponse({ call: { stream: { write: () => true } } } as unknown as grpc.ServerWritableStream<
      unknown,
      unknown
    >),
    null,
  );
});
