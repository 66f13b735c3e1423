import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageSequence, repoRoot, shared, tempDir } from '../support/fixtures.js';
import { NotifyReceiver } from '../support/notify-receiver.js';

const BIN = join(repoRoot, 'edge-agent', 'bin', 'edge-agent.js');

function runAgent(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exit, out: () => stdout, err: () => stderr };
}

// sd_notify(3): READY=1 once pipelines run, WATCHDOG=1 every WATCHDOG_USEC/2, STOPPING=1 on SIGTERM.
test('edge-agent run tells a real notify socket READY=1, STATUS=, WATCHDOG=1 and STOPPING=1, and exits 0 on SIGTERM', async (t) => {
  const tmp = tempDir('agent-cli-notify');
  t.after(tmp.cleanup);
  const receiver = await NotifyReceiver.start(tmp.path);
  t.after(() => receiver.stop());
  const seq = imageSequence(join(tmp.path, 'seq'), shared('images/person.jpg'), 3);
  const config = join(tmp.path, 'agent.json');
  writeFileSync(
    config,
    JSON.stringify({
      deviceId: 'cli-test',
      dataDir: join(tmp.path, 'data'),
      model: { path: shared('models/yolov8n_int8.onnx'), providers: ['cpu'] },
      cameras: [{ id: 'cam', uri: `dir://${seq}`, loop: true, fps: 5, realtime: true }],
      metrics: { enabled: false },
    }),
  );
  const agent = runAgent(['run', '--config', config, '--print-detections'], {
    NOTIFY_SOCKET: receiver.path,
    WATCHDOG_USEC: '400000',
  });
  t.after(() => agent.child.kill('SIGKILL'));

  await receiver.waitFor((m) => m.split('\n').includes('READY=1'));
  await receiver.waitFor((m) => m.split('\n').some((l) => l.startsWith('STATUS=')));
  await receiver.waitFor((m) => m.split('\n').includes('WATCHDOG=1'), 3);
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(agent.out().includes('"label":"person"'), `detections printed: ${agent.out().slice(0, 300)}`);
  agent.child.kill('SIGTERM');
  assert.equal(await agent.exit, 0, agent.err());
  await receiver.waitFor((m) => m.split('\n').includes('STOPPING=1'));
});

test('edge-agent run with a config of wrong types lists every bad path and does not start', async (t) => {
  const tmp = tempDir('agent-cli-config');
  t.after(tmp.cleanup);
  const config = join(tmp.path, 'bad.json');
  writeFileSync(
    config,
    JSON.stringify({
      deviceId: 42,
      model: { path: '/x.onnx', conf: 'high' },
      cameras: [
        { id: 'ok', uri: 'testsrc://' },
        { id: 'bad id!', uri: 'testsrc://', fps: 'fast' },
      ],
    }),
  );
  const agent = runAgent(['run', '--config', config]);
  assert.equal(await agent.exit, 78);
  const err = agent.err();
  assert.match(err, /EDGE_ERR_CONFIG_INVALID/);
  for (const path of ['/deviceId', '/model/conf', '/cameras/1/id', '/cameras/1/fps']) {
    assert.ok(err.includes(path), `stderr should name ${path}:\n${err}`);
  }
  assert.equal(agent.out(), '');
});

test('edge-agent run with an unreadable config file fails with EDGE_ERR_CONFIG_READ', async () => {
  const agent = runAgent(['run', '--config', '/nonexistent/agent.json']);
  assert.equal(await agent.exit, 78);
  assert.match(agent.err(), /EDGE_ERR_CONFIG_READ/);
});
