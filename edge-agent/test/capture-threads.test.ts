import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';

/**
 * Runs in a child process with a 4-thread libuv pool: dozens of restarts of stalling, failing and
 * stopped pipelines. Each pull and bus poll parks a pool thread; if teardown left any of them
 * blocked, the pool would run dry (the final readFile never completes) and the process could not
 * exit on its own (pending work keeps the loop alive): the parent would see no clean exit.
 */
const CHILD = `
import { createServer } from 'node:net';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const { createGstFrameSource } = await import(process.env.CAPTURE_MODULE);
const fit = () => ({ width: 32, height: 24 });
const until = async (pred) => { while (!pred()) await new Promise((r) => setTimeout(r, 10)); };
const report = { restarts: {}, notReleased: 0 };

// 1. A camera that accepts TCP and stays silent: stall, teardown, restart, over and over.
const sockets = new Set();
const server = createServer((s) => { sockets.add(s); s.on('error', () => {}); });
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const silent = createGstFrameSource({ cameraId: 'silent', uri: 'rtsp://127.0.0.1:' + server.address().port + '/x',
  output: { format: 'RGB', fit }, stallTimeoutMs: 150, backoff: { initialMs: 5, maxMs: 10, jitter: 0 } });
await silent.start(new AbortController().signal);
await until(() => silent.status().restarts >= 10);
await silent.stop();
report.restarts.silent = silent.status().restarts;
report.notReleased += silent.status().threadsNotReleased;
for (const s of sockets) s.destroy();
server.close();

// 2. A file GStreamer rejects (bus ERROR) while a next() waits on it.
const dir = await mkdtemp(join(tmpdir(), 'edgefleet-threads-'));
await writeFile(join(dir, 'junk.avi'), Buffer.alloc(2048, 3));
const junk = createGstFrameSource({ cameraId: 'junk', uri: 'file://' + join(dir, 'junk.avi'),
  output: { format: 'RGB', fit }, backoff: { initialMs: 5, maxMs: 10, jitter: 0 } });
await junk.start(new AbortController().signal);
const pending = junk.next();
await until(() => junk.status().restarts >= 10);
await junk.stop();
if ((await pending) !== null) throw new Error('next() should resolve null on stop');
report.restarts.junk = junk.status().restarts;
report.notReleased += junk.status().threadsNotReleased;
await rm(dir, { recursive: true, force: true });

// 3. Healthy live pipelines stopped while their pull is parked.
for (let i = 0; i < 10; i++) {
  const live = createGstFrameSource({ cameraId: 'live' + i, uri: 'testsrc://?fps=30&width=64&height=48', output: { format: 'RGB', fit } });
  await live.start(new AbortController().signal);
  if ((await live.next()) === null) throw new Error('no frame from testsrc');
  await live.stop();
  report.notReleased += live.status().threadsNotReleased;
}

// The pool still has free threads: this read needs one.
await readFile(process.env.CAPTURE_MODULE_PATH);
report.ok = true;
process.stdout.write(JSON.stringify(report));
`;

describe('libuv threadpool hygiene', () => {
  it('gives back every pull and bus thread across many restarts (4-thread pool)', async () => {
    const module = new URL('../src/capture/gst-frame-source.js', import.meta.url);
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: {
        ...process.env,
        UV_THREADPOOL_SIZE: '4',
        CAPTURE_MODULE: module.href,
        CAPTURE_MODULE_PATH: module.pathname,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('did not exit on its own within 120 s');
      }, 120_000);
      child.on('exit', (c, signal) => {
        clearTimeout(timer);
        resolve(c ?? String(signal));
      });
    });
    assert.equal(code, 0, `child: ${code}\nstdout: ${stdout}\nstderr: ${stderr.slice(-2000)}`);
    const report = JSON.parse(stdout) as { ok: boolean; notReleased: number; restarts: Record<string, number> };
    assert.equal(report.ok, true);
    assert.equal(report.notReleased, 0);
    assert.ok(report.restarts.silent! >= 10 && report.restarts.junk! >= 10, JSON.stringify(report.restarts));
  });
});
