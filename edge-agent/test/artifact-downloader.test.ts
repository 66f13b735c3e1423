import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Http2Server } from 'node:http2';
import { createServer as createTcpServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { ArtifactDownloader, type DownloadSettings } from '../src/control/artifact-downloader.js';
import type { EdgeError } from '../src/errors.js';
import { TestControlPlane } from './control-plane-fixture.js';

/**
 * The agent's DownloadModel client (its own HTTP/2 session, gRPC's wire format) against a real grpc-js
 * server (the fixture control plane) and against HTTP/2 and TCP servers that are not gRPC at all.
 */

const DEVICE = 'downloader-dev';
const never = new AbortController().signal;

function settings(url: string, extra: Partial<DownloadSettings> = {}): DownloadSettings {
  return { url, tls: null, authorization: null, callTimeoutMs: 2000, downloadChunkBytes: 65_536, ...extra };
}

const basic = (password: string) => `Basic ${Buffer.from(`${DEVICE}:${password}`).toString('base64')}`;

interface Failure {
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean | undefined;
  readonly grpcCode: number | undefined;
}

async function failure(p: Promise<unknown>): Promise<Failure> {
  try {
    await p;
  } catch (err) {
    const e = err as EdgeError;
    const details = (e.details ?? {}) as { retryable?: boolean; grpcCode?: number };
    return { code: e.code, message: e.message, retryable: details.retryable, grpcCode: details.grpcCode };
  }
  return assert.fail('the download succeeded');
}

async function collect(
  d: ArtifactDownloader,
  sha256: string,
  offset = 0,
): Promise<{ bytes: Buffer; offsets: number[] }> {
  const pieces: Buffer[] = [];
  const offsets: number[] = [];
  await d.download(
    { sha256, offset },
    (c) => {
      offsets.push(c.offset);
      pieces.push(Buffer.from(c.data)); // valid only during the callback
    },
    never,
  );
  return { bytes: Buffer.concat(pieces), offsets };
}

describe('artifact downloader against a gRPC control plane', () => {
  let cp: TestControlPlane;
  let downloader: ArtifactDownloader;
  before(async () => {
    cp = await TestControlPlane.start({ deviceId: DEVICE });
    downloader = new ArtifactDownloader(settings(cp.url, { authorization: basic(cp.password) }));
  });
  after(async () => {
    downloader.close();
    await cp.stop();
  });

  it('streams the artifact in order from an offset, and reuses one session for every download', async () => {
    const bytes = randomBytes(1_000_000);
    const d = cp.publish(bytes, { version: '1' });
    const whole = await collect(downloader, d.sha256);
    assert.ok(whole.bytes.equals(bytes));
    assert.deepEqual(whole.offsets.slice(0, 3), [0, 65_536, 131_072]);
    const rest = await collect(downloader, d.sha256, 123_457);
    assert.ok(rest.bytes.equals(bytes.subarray(123_457)));
    assert.equal(cp.downloads.at(-1)?.chunkBytes, 65_536, 'the configured chunk size is asked for');
    const empty = await collect(downloader, d.sha256, bytes.length);
    assert.equal(empty.bytes.length, 0);
  });

  it("answers the control plane's status: NOT_FOUND is final, a cut stream may be tried again", async () => {
    const unknown = await failure(collect(downloader, 'f'.repeat(64)));
    assert.equal(unknown.code, 'EDGE_ERR_MODEL_DOWNLOAD');
    assert.equal(unknown.grpcCode, grpc.status.NOT_FOUND);
    assert.equal(unknown.retryable, false);
    assert.match(unknown.message, /NOT_FOUND: no artifact f{64}/);

    const bytes = randomBytes(400_000);
    const d = cp.publish(bytes, { version: 'cut' });
    cp.serve(d.sha256, { cutAfter: 131_072 });
    const got: number[] = [];
    const cut = await failure(
      downloader.download({ sha256: d.sha256, offset: 0 }, (c) => got.push(c.data.length), never),
    );
    assert.equal(cut.grpcCode, grpc.status.UNAVAILABLE);
    assert.equal(cut.retryable, true);
    assert.equal(
      got.reduce((a, b) => a + b, 0),
      131_072,
      'the chunks before the cut were delivered',
    );
  });

  it('sends the device credential: without it, UNAUTHENTICATED', async () => {
    const d = cp.publish(randomBytes(1000), { version: 'auth' });
    const anonymous = new ArtifactDownloader(settings(cp.url));
    try {
      const e = await failure(collect(anonymous, d.sha256));
      assert.equal(e.grpcCode, grpc.status.UNAUTHENTICATED);
      assert.equal(e.retryable, false);
    } finally {
      anonymous.close();
    }
  });

  it('a throw from onChunk cancels the call and is what rejects; an abort rejects as stopped, not retryable', async () => {
    const d = cp.publish(randomBytes(500_000), { version: 'stop' });
    const mine = new Error('disk full');
    await assert.rejects(
      downloader.download(
        { sha256: d.sha256, offset: 0 },
        () => {
          throw mine;
        },
        never,
      ),
      (e) => e === mine,
    );
    const abort = new AbortController();
    const stopped = await failure(
      downloader.download({ sha256: d.sha256, offset: 0 }, () => abort.abort(), abort.signal),
    );
    assert.match(stopped.message, /stopped/);
    assert.equal(stopped.retryable, false);
    // The session is still good for the next download.
    assert.equal((await collect(downloader, d.sha256)).bytes.length, 500_000);
  });

  it('a control plane that went away and came back on the same port gets the next download on a new session', async () => {
    const bytes = randomBytes(200_000);
    const d = cp.publish(bytes, { version: 'restart' });
    assert.ok((await collect(downloader, d.sha256)).bytes.equals(bytes));
    await cp.stop();
    await cp.restart();
    assert.ok((await collect(downloader, d.sha256)).bytes.equals(bytes));
  });

  it('after close, a download is refused as not started', async () => {
    const closed = new ArtifactDownloader(settings(cp.url, { authorization: basic(cp.password) }));
    closed.close();
    const e = await failure(collect(closed, 'a'.repeat(64)));
    assert.match(e.message, /not started/);
  });
});

describe('artifact downloader against servers that are not gRPC', () => {
  const servers: (Http2Server | ReturnType<typeof createTcpServer>)[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  async function http2Server(onStream: Parameters<Http2Server['on']>[1]): Promise<string> {
    const server = createServer();
    server.on('stream', onStream as never);
    server.on('session', (s) => s.on('error', () => undefined));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
    return `127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  it('an HTTP error page is the gRPC code of its HTTP status (503: UNAVAILABLE, retryable; 404: UNIMPLEMENTED, final)', async () => {
    const url503 = await http2Server((stream: import('node:http2').ServerHttp2Stream) => {
      stream.respond({ ':status': 503, 'content-type': 'text/html' });
      stream.end('<h1>down for maintenance</h1>');
    });
    const url404 = await http2Server((stream: import('node:http2').ServerHttp2Stream) => {
      stream.respond({ ':status': 404, 'content-type': 'text/plain' });
      stream.end('no such path');
    });
    for (const [url, code, retryable] of [
      [url503, grpc.status.UNAVAILABLE, true],
      [url404, grpc.status.UNIMPLEMENTED, false],
    ] as const) {
      const d = new ArtifactDownloader(settings(url));
      try {
        const e = await failure(collect(d, 'a'.repeat(64)));
        assert.equal(e.grpcCode, code, url);
        assert.equal(e.retryable, retryable, url);
        assert.match(e.message, /HTTP status/);
      } finally {
        d.close();
      }
    }
  });

  it('a 200 that is not gRPC, a body that stops inside a message, a compressed message: clear errors', async () => {
    const html = await http2Server((stream: import('node:http2').ServerHttp2Stream) => {
      stream.respond({ ':status': 200, 'content-type': 'text/html' });
      stream.end('<html></html>');
    });
    const truncated = await http2Server((stream: import('node:http2').ServerHttp2Stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      const header = Buffer.from([0, 0, 0, 1, 0]); // a 256-byte message, of which 10 bytes come
      stream.end(Buffer.concat([header, Buffer.alloc(10)]));
    });
    const compressed = await http2Server((stream: import('node:http2').ServerHttp2Stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.from([1, 0, 0, 0, 2, 7, 7]));
    });
    const cases = [
      [html, /content-type text\/html is not gRPC/],
      [truncated, /ended inside a message/],
      [compressed, /compressed/],
    ] as const;
    for (const [url, message] of cases) {
      const d = new ArtifactDownloader(settings(url));
      try {
        const e = await failure(collect(d, 'a'.repeat(64)));
        assert.equal(e.code, 'EDGE_ERR_MODEL_DOWNLOAD');
        assert.match(e.message, message);
      } finally {
        d.close();
      }
    }
  });

  it('a server that accepts the call and sends nothing is cut after callTimeoutMs, retryable', async () => {
    const silent = await http2Server((stream: import('node:http2').ServerHttp2Stream) => {
      stream.on('error', () => undefined);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    });
    const d = new ArtifactDownloader(settings(silent, { callTimeoutMs: 300 }));
    try {
      const e = await failure(collect(d, 'a'.repeat(64)));
      assert.match(e.message, /no data for 300 ms/);
      assert.equal(e.retryable, true);
    } finally {
      d.close();
    }
  });

  it('nothing listening, or a TCP server that is not HTTP/2: UNAVAILABLE, retryable', async () => {
    const tcp = createTcpServer((socket) => socket.end('SSH-2.0-OpenSSH\r\n'));
    tcp.listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    servers.push(tcp);
    const closedPort = createTcpServer();
    closedPort.listen(0, '127.0.0.1');
    await once(closedPort, 'listening');
    const deadPort = (closedPort.address() as { port: number }).port;
    closedPort.close();
    for (const url of [`127.0.0.1:${(tcp.address() as { port: number }).port}`, `127.0.0.1:${deadPort}`]) {
      const d = new ArtifactDownloader(settings(url));
      try {
        const e = await failure(collect(d, 'a'.repeat(64)));
        assert.equal(e.code, 'EDGE_ERR_MODEL_DOWNLOAD', url);
        assert.equal(e.grpcCode, grpc.status.UNAVAILABLE, url);
        assert.equal(e.retryable, true, url);
      } finally {
        d.close();
      }
    }
  });
});
