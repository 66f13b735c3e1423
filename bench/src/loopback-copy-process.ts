/**
 * The download benchmark's baseline sender: a process of its own (as the control plane is) that holds the
 * artifact's bytes in memory (as the control plane's encoded-chunk cache does) and sends them over raw
 * loopback TCP in writes of the size the client asks for (4-byte big-endian request), waiting for 'drain'
 * when the socket's buffer is full, then closes. No framing, no HTTP/2, no protobuf: the two senders
 * differ in protocol only, and neither shares its process with the benchmark's own bookkeeping.
 *
 * Run as a child (`fork`): the file to serve is argv[2]; it sends `{ port }` once listening.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';

const MAX_CHUNK_BYTES = 16 * 1024 * 1024;

export interface LoopbackCopyProcess {
  readonly port: number;
  readonly pid: number;
  close(): Promise<void>;
}

/** Forks the baseline sender for `file`; resolves once it listens. */
export async function startLoopbackCopyProcess(file: string): Promise<LoopbackCopyProcess> {
  const child = fork(new URL(import.meta.url).pathname, [file], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = once(child, 'exit');
  const first = await Promise.race([once(child, 'message'), exited.then(() => null)]);
  if (first === null) throw new Error(`loopback copy process exited before listening (code ${String(child.exitCode)})`);
  const { port } = first[0] as { port: number };
  return {
    port,
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

function main(file: string): void {
  const bytes = readFileSync(file);
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    serve(socket, bytes).catch((err: unknown) => {
      socket.destroy();
      console.error(`loopback copy process: ${(err as Error).message}`);
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('loopback copy server has no port');
    process.send?.({ port: address.port });
  });
  process.on('SIGTERM', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
}

if (process.send && process.argv[1] === new URL(import.meta.url).pathname) main(process.argv[2] as string);
