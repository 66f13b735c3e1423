import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * A real AF_UNIX datagram socket standing in for systemd's notify socket, served by a separate
 * Python process so the agent's sender is checked against an independent implementation.
 * Each datagram comes back as one line (newlines inside a datagram escaped as `\n`).
 */
export class NotifyReceiver {
  readonly messages: string[] = [];
  private constructor(
    readonly path: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(dir: string): Promise<NotifyReceiver> {
    const path = join(dir, 'notify.sock');
    const script = [
      'import socket, sys',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      `s.bind(${JSON.stringify(path)})`,
      'print("BOUND", flush=True)',
      'while True:',
      '    d = s.recv(65536).decode()',
      '    print(d.replace("\\n", "\\\\n"), flush=True)',
    ].join('\n');
    const child = spawn('/usr/bin/python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const receiver = new NotifyReceiver(path, child);
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`notify receiver exited with ${code}`)));
      lines.on('line', (line) => {
        if (line === 'BOUND') resolve();
        else receiver.messages.push(line.replaceAll('\\n', '\n'));
      });
    });
    return receiver;
  }

  /** Waits until `count` datagrams match; the timeout is a hang guard, not a performance threshold. */
  async waitFor(predicate: (m: string) => boolean, count = 1, timeoutMs = 60_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hits = this.messages.filter(predicate);
      if (hits.length >= count) return hits;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for notifications; got ${JSON.stringify(this.messages)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}
