import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { SdNotifier } from '../src/systemd/sd-notify.js';
import { Watchdog, watchdogIntervalUsec, type WatchdogTick } from '../src/systemd/watchdog.js';
import { NotifySocket } from './sd-notify-socket.js';

/** Resolves after `n` more ticks of the watchdog. */
function ticks(log: WatchdogTick[], n: number): Promise<void> {
  const target = log.length + n;
  return (async () => {
    while (log.length < target) await sleep(5);
  })();
}

const isWatchdog = (m: string) => m === 'WATCHDOG=1\n';

describe('Watchdog', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  function setup(env: NodeJS.ProcessEnv = {}) {
    const sock = NotifySocket.bind();
    const log: WatchdogTick[] = [];
    const errors: unknown[] = [];
    const watchdog = new Watchdog({
      notifier: new SdNotifier({ NOTIFY_SOCKET: sock.path }),
      // 100 ms watchdog → a tick every 50 ms.
      env: { WATCHDOG_USEC: '100000', ...env },
      onTick: (t) => log.push(t),
      onError: (e) => errors.push(e),
    });
    cleanups.push(() => {
      watchdog.stop();
      sock.close();
    });
    return { sock, log, errors, watchdog };
  }

  it('pings WATCHDOG=1 at half of WATCHDOG_USEC while the loop kicks [sd_notify(3): WATCHDOG_USEC/2]', async () => {
    const { sock, log, errors, watchdog } = setup();
    assert.equal(watchdog.start(), true);
    assert.equal(watchdog.periodMs, 50);
    const kicker = setInterval(() => watchdog.kick(), 5);
    try {
      await sock.waitFor(isWatchdog, 3);
    } finally {
      clearInterval(kicker);
    }
    assert.deepEqual(errors, []);
    assert.ok(log.filter((t) => t === 'sent').length >= 3);
  });

  it('withholds WATCHDOG=1 once kicks stop, so systemd restarts a hung loop, and resumes with them', async () => {
    const { sock, log, watchdog } = setup();
    watchdog.start();
    // Start-up counts as one kick: the first tick sends, later ones are withheld without kicks.
    await ticks(log, 4);
    assert.deepEqual(log.slice(0, 4), ['sent', 'withheld', 'withheld', 'withheld']);
    await sleep(20); // let the datagram reach our socket
    assert.equal(sock.messages.filter(isWatchdog).length, 1, 'exactly one WATCHDOG=1 for the one tick that sent');

    watchdog.kick();
    await ticks(log, 2);
    assert.deepEqual(log.slice(4, 6), ['sent', 'withheld'], 'one kick buys exactly one ping');
    await sock.waitFor(isWatchdog, 2);
    watchdog.stop();
    await sleep(20);
    assert.equal(sock.messages.filter(isWatchdog).length, log.filter((t) => t === 'sent').length);
  });

  it('stops pinging after stop()', async () => {
    const { log, watchdog } = setup();
    watchdog.start();
    await ticks(log, 1);
    watchdog.stop();
    const count = log.length;
    await sleep(150);
    assert.equal(log.length, count);
    assert.equal(watchdog.periodMs, null);
  });

  it('reports a failed send through onError and keeps running', async () => {
    const { sock, log, errors, watchdog } = setup();
    sock.close(); // systemd went away: nobody listens on the path any more
    watchdog.start();
    while (errors.length < 1) await sleep(5);
    watchdog.kick();
    while (errors.length < 2) await sleep(5);
    assert.equal((errors[0] as { code: string }).code, 'EDGE_ERR_SD_NOTIFY');
    assert.match((errors[0] as Error).message, /ENOENT/);
    assert.ok(!log.includes('sent'));
    assert.equal(watchdog.periodMs, 50, 'still running');
  });

  it('stays off without WATCHDOG_USEC, without NOTIFY_SOCKET, or when WATCHDOG_PID is another process', () => {
    const off = (env: NodeJS.ProcessEnv, notifyEnv: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/run/x' }) =>
      new Watchdog({ notifier: new SdNotifier(notifyEnv), env, pid: 4242, onError: () => undefined }).start();
    assert.equal(off({}), false);
    assert.equal(off({ WATCHDOG_USEC: '30000000' }, {}), false);
    assert.equal(off({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '4243' }), false);
  });

  it('parses WATCHDOG_USEC and WATCHDOG_PID like sd_watchdog_enabled(3)', () => {
    assert.equal(watchdogIntervalUsec({}, 1), null);
    assert.equal(watchdogIntervalUsec({ WATCHDOG_USEC: '30000000' }, 1), 30_000_000);
    assert.equal(watchdogIntervalUsec({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 7), 30_000_000);
    assert.equal(watchdogIntervalUsec({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '8' }, 7), null);
    assert.throws(() => watchdogIntervalUsec({ WATCHDOG_USEC: '30s' }, 1), {
      code: 'EDGE_ERR_SD_NOTIFY',
      message: /WATCHDOG_USEC must be a positive integer \(microseconds\), got "30s"/,
    });
    assert.throws(() => watchdogIntervalUsec({ WATCHDOG_USEC: '0' }, 1), { message: /positive integer/ });
    assert.throws(() => watchdogIntervalUsec({ WATCHDOG_USEC: '10', WATCHDOG_PID: 'self' }, 1), {
      message: /WATCHDOG_PID must be a process id/,
    });
  });
});
