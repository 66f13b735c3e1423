/**
 * The download benchmark's baseline senders: a process of its own (as the control plane is) that holds the
 * artifact's bytes in memory (as the control plane's encoded-chunk cache does) and sends them
 * - over raw loopback TCP (`port`) in writes of the size the client asks for (4-byte big-endian request),
 *   waiting for 'drain' when the socket's buffer is full, then closes: the baseline. No framing, no HTTP/2,
 *   no protobuf: it and the gRPC sender differ in protocol only, and neither shares its process with the
 *   benchmark's own bookkeeping;
 * - over bare cleartext HTTP/2 (`http2Port`, Node's http2 as grpc-js uses it; the client opens 8 MiB windows):
 *   a GET whose `x-chunk-bytes` header names the write size gets the bytes as the response body, written
 *   the same way. No gRPC framing, no protobuf: the ceiling any gRPC implementation on Node's HTTP/2 can
 *   reach on this machine.
 *
 * Run as a child (`fork`): the file to serve is argv[2]; it sends `{ port, http2Port }` once listening.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as createHttp2Server, type ServerHttp2Stream } from 'node:http2';
import { createServer, type Socket } from 'node:net';
import { childProfilingArgs } from './bench-util.js';
import { HTTP2_WINDOW_BYTES } from './rollout-ipc.js';

const MAX_CHUNK_BYTES = 16 * 1024 * 1024;

export interface LoopbackCopyProcess {
  readonly port: number;
  readonly http2Port: number;
  readonly pid: number;
  close(): Promise<void>;
}

/** Forks the baseline sender for `file`; resolves once it listens. */
export async function startLoopbackCopyProcess(file: string): Promise<LoopbackCopyProcess> {
  const child = fork(new URL(import.meta.url).pathname, [file], {
    execArgv: [...process.execArgv, ...childProfilingArgs()],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const first = await Promise.race([once(child, 'message'), exited.then(() => null)]);
  if (first === null) throw new Error(`loopback copy process exited before listening (code ${String(child.exitCode)})`);
  const { port, http2Port } = first[0] as { port: number; http2Port: number };
  return {
    port,
    http2Port,
    pid: child.pid as number,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function serve(socket: Socket, bytes: Buffer): Promise<void> {
  const [request] = (await once(socket, 'data')) as [Buffer];
  if (request.length < 4) throw new Error(`short request (${request.length} bytes)`);
  const chunkBytes = request.readUInt32BE(0);
  if (chunkBytes < 1 || chunkBytes > MAX_CHUNK_BYTES) throw new Error(`chunk size ${chunkBytes} out of range`);
  const closed = once(socket, 'close');
  for (let offset = 0; offset < bytes.length && !socket.destroyed; offset += chunkBytes) {
    if (!socket.write(bytes.subarray(offset, offset + chunkBytes))) await Promise.race([once(socket, 'drain'), closed]);
  }
  socket.end();
}

async function serveHttp2(stream: ServerHttp2Stream, chunkBytes: number, bytes: Buffer): Promise<void> {
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > MAX_CHUNK_BYTES) {
    stream.respond({ ':status': 400 });
    stream.end(`chunk size ${chunkBytes} out of range`);
    return;
  }
  stream.respond({ ':status': 200, 'content-length': bytes.length });
  const closed = once(stream, 'close');
  for (let offset = 0; offset < bytes.length && !stream.destroyed; offset += chunkBytes) {
    if (!stream.write(bytes.subarray(offset, offset + chunkBytes))) await Promise.race([once(stream, 'drain'), closed]);
  }
  stream.end();
}

function listen(server: {
  listen(port: number, host: string, cb: () => void): unknown;
  address(): unknown;
}): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number } | string | null;
      if (address === null || typeof address === 'string') throw new Error('loopback copy server has no port');
      resolve(address.port);
    }),
  );
}

async function main(file: string): Promise<void> {
  const bytes = readFileSync(file);
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    serve(socket, bytes).catch((err: unknown) => {
      socket.destroy();
      console.error(`loopback copy process: ${(err as Error).message}`);
    });
  });
  const http2 = createHttp2Server({ settings: { initialWindowSize: HTTP2_WINDOW_BYTES } });
  http2.on('session', (session) => session.on('error', () => undefined));
  http2.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    serveHttp2(stream, Number(headers['x-chunk-bytes']), bytes).catch((err: unknown) => {
      stream.destroy();
      console.error(`loopback copy process (HTTP/2): ${(err as Error).message}`);
    });
  });
  process.on('SIGTERM', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
  const [port, http2Port] = await Promise.all([listen(server), listen(http2)]);
  process.send?.({ port, http2Port });
}

if (process.send && process.argv[1] === new URL(import.meta.url).pathname) {
  main(process.argv[2] as string).catch((err: unknown) => {
    console.error(`loopback copy process: ${(err as Error).message}`);
    process.exit(1);
  });
}
