/** A real AF_UNIX datagram socket standing in for systemd's notify socket in tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import unixDgram, { type UnixDgramSocket } from 'unix-dgram';

export class NotifySocket {
  readonly messages: string[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    readonly path: string,
    private readonly dir: string,
    private readonly socket: UnixDgramSocket,
  ) {
    socket.on('message', (msg) => {
      this.messages.push(msg.toString('utf8'));
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static bind(): NotifySocket {
    const dir = mkdtempSync(join(tmpdir(), 'sd-notify-'));
    const path = join(dir, 'notify');
    const socket = unixDgram.createSocket('unix_dgram');
    let failure: Error | null = null;
    socket.on('error', (err) => {
      failure = err;
    });
    socket.bind(path);
    if (failure) throw failure;
    return new NotifySocket(path, dir, socket);
  }

  /** Resolves once `count` messages satisfy `predicate`; rejects after `timeoutMs` (a hang guard, not a threshold). */
  async waitFor(predicate: (m: string) => boolean, count = 1, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hits = this.messages.filter(predicate);
      if (hits.length >= count) return hits;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${count} notification(s); got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private closed = false;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
