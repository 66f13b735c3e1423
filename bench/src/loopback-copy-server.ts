import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { createServer, type Socket } from 'node:net';

/**
 * The baseline of the download benchmark: a raw TCP server on the loopback that sends a file as the
 * control plane's DownloadModel handler does — a read stream of the file in chunks of the size the
 * client asks for (4-byte big-endian request), each written to the socket, waiting for 'drain' when the
 * socket's buffer is full — then closes. No framing, no HTTP/2, no protobuf: what a copy of the bytes
 * costs on this machine.
 */
export interface LoopbackCopyServer {
  readonly port: number;
  close(): Promise<void>;
}

const MAX_CHUNK_BYTES = 16 * 1024 * 1024;

async function serve(socket: Socket, file: string): Promise<void> {
  const [request] = (await once(socket, 'data')) as [Buffer];
  if (request.length < 4) throw new Error(`short request (${request.length} bytes)`);
  const chunkBytes = request.readUInt32BE(0);
  if (chunkBytes < 1 || chunkBytes > MAX_CHUNK_BYTES) throw new Error(`chunk size ${chunkBytes} out of range`);
  const closed = once(socket, 'close');
  const source = createReadStream(file, { highWaterMark: chunkBytes });
  try {
    for await (const data of source) {
      if (!socket.write(data as Buffer)) await Promise.race([once(socket, 'drain'), closed]);
      if (socket.destroyed) return;
    }
    socket.end();
  } finally {
    source.destroy();
  }
}

export async function startLoopbackCopyServer(file: string, onError: (err: Error) => void): Promise<LoopbackCopyServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    serve(socket, file).catch((err: unknown) => {
      socket.destroy();
      onError(err as Error);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('loopback copy server has no port');
  return {
    port: address.port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
