import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SdNotifier, encode } from '../src/systemd/sd-notify.js';
import { EdgeError } from '../src/errors.js';
import { NotifySocket } from './sd-notify-socket.js';

describe('SdNotifier', () => {
  const sockets: NotifySocket[] = [];
  const listen = () => {
    const s = NotifySocket.bind();
    sockets.push(s);
    return s;
  };
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });

  it('is a no-op without NOTIFY_SOCKET', () => {
    const n = new SdNotifier({});
    assert.equal(n.enabled, false);
    assert.equal(n.ready(), false);
    assert.equal(n.status('hello'), false);
    assert.equal(n.watchdog(), false);
    assert.equal(n.stopping(), false);
    assert.equal(new SdNotifier({ NOTIFY_SOCKET: '' }).ready(), false);
  });

  it('sends READY=1, STATUS=, WATCHDOG=1 and STOPPING=1 as sd_notify(3) datagrams', async () => {
    const sock = listen();
    const n = new SdNotifier({ NOTIFY_SOCKET: sock.path });
    assert.equal(n.enabled, true);
    assert.equal(n.ready('2 cameras running'), true);
    assert.equal(n.status('cam-1 reconnecting\n(backoff 2s)'), true);
    assert.equal(n.watchdog(), true);
    assert.equal(n.stopping(), true);
    assert.equal(n.notify({ EXTEND_TIMEOUT_USEC: 5_000_000 }), true);
    await sock.waitFor(() => true, 5);
    assert.deepEqual(sock.messages, [
      'READY=1\nSTATUS=2 cameras running\n',
      'STATUS=cam-1 reconnecting (backoff 2s)\n',
      'WATCHDOG=1\n',
      'STOPPING=1\n',
      'EXTEND_TIMEOUT_USEC=5000000\n',
    ]);
  });

  it('sends from the main process itself, so NotifyAccess=main accepts it (sender pid via SCM_CREDENTIALS)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sd-cred-'));
    const path = join(dir, 'notify');
    // systemd reads the sender's credentials with SO_PASSCRED; a Python receiver does the same here.
    const py = spawn('python3', [
      '-c',
      `
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print('bound', flush=True)
s.settimeout(20)
msg, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(12))
pid = None
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
        pid, uid, gid = struct.unpack('iII', data[:12])
print(json.dumps({'pid': pid, 'msg': msg.decode()}), flush=True)
`,
      path,
    ]);
    try {
      const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
      assert.equal((await lines.next()).value, 'bound');
      new SdNotifier({ NOTIFY_SOCKET: path }).ready();
      const got = JSON.parse((await lines.next()).value as string) as { pid: number; msg: string };
      assert.deepEqual(got, { pid: process.pid, msg: 'READY=1\n' });
    } finally {
      py.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a socket nobody listens on as EDGE_ERR_SD_NOTIFY with the errno', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sd-none-'));
    try {
      const n = new SdNotifier({ NOTIFY_SOCKET: join(dir, 'missing') });
      assert.throws(
        () => n.ready(),
        (err: unknown) => {
          assert.ok(err instanceof EdgeError);
          assert.equal(err.code, 'EDGE_ERR_SD_NOTIFY');
          assert.match(err.message, /sending to NOTIFY_SOCKET .*missing failed: ENOENT/);
          return true;
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects abstract-namespace, relative and over-long addresses with a clear message', () => {
    assert.throws(() => new SdNotifier({ NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify/123' }).ready(), {
      code: 'EDGE_ERR_SD_NOTIFY',
      message: /abstract-namespace socket, which unix-dgram cannot address/,
    });
    assert.throws(() => new SdNotifier({ NOTIFY_SOCKET: 'run/notify' }).ready(), {
      message: /not an absolute socket path/,
    });
    assert.throws(() => new SdNotifier({ NOTIFY_SOCKET: 'vsock:2:1234' }).ready(), {
      message: /not an absolute socket path/,
    });
    assert.throws(() => new SdNotifier({ NOTIFY_SOCKET: `/${'x'.repeat(200)}` }).ready(), {
      message: /longer than 107 bytes/,
    });
  });

  it('encodes fields as KEY=VALUE lines and rejects what the protocol cannot carry', () => {
    assert.equal(encode({ READY: 1, STATUS: 'ok' }), 'READY=1\nSTATUS=ok\n');
    assert.throws(() => encode({}), { code: 'EDGE_ERR_SD_NOTIFY', message: /no fields/ });
    assert.throws(() => encode({ ready: 1 }), { message: /invalid notification field name "ready"/ });
    assert.throws(() => encode({ STATUS: 'a\nb' }), { message: /STATUS must be one line/ });
  });
});
