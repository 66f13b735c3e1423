// Minimal typings for the parts of unix-dgram 2.x we use (the package ships none).
declare module 'unix-dgram' {
  import { EventEmitter } from 'node:events';

  export interface UnixDgramSocket extends EventEmitter {
    bind(path: string): void;
    connect(path: string): void;
    /** Unconnected send; the callback runs synchronously with an Error whose `errno`/`code` is a negative errno. */
    send(buf: Buffer, offset: number, length: number, path: string, callback?: (err?: Error & { errno?: number }) => void): void;
    close(): void;
    on(event: 'message', listener: (msg: Buffer, rinfo: { size: number; path?: string }) => void): this;
    on(event: 'error', listener: (err: Error & { errno?: number }) => void): this;
    on(event: 'listening' | 'connect' | 'writable', listener: () => void): this;
  }

  export function createSocket(type: 'unix_dgram', listener?: (msg: Buffer) => void): UnixDgramSocket;

  const unixDgram: { createSocket: typeof createSocket };
  export default unixDgram;
}
