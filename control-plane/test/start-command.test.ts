import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { encodeDetectionBatch } from '@edgefleet/proto';
import { connectClient, detectionsTopic, lifo, makeBatch, publishAcked } from './ingest-test-kit.js';
import { createDatabase } from './storage-test-db.js';
import { tempDir } from '@edgefleet/service-kit/testing';

/** `control-plane start` as users run it: the real bin in a child process, stopped with SIGTERM. */
const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'control-plane.js');

interface Running {
  readonly child: ChildProcess;
  readonly lines: Record<string, string>;
  readonly stdout: () => string;
  readonly exited: Promise<number | null>;
}

async function start(env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, [BIN, 'start'], {
    env: {
      ...process.env,
      CP_MQTT__HOST: '127.0.0.1',
      CP_MQTT__PORT: '0',
      CP_HTTP__PORT: '0',
      CP_GRPC__HOST: '127.0.0.1',
      CP_GRPC__PORT: '0',
      CP_LOG__LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!/^database: .+$/m.test(out)) {
    if (child.exitCode !== null) throw new Error(`control-plane start exited ${child.exitCode}: ${err}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`control-plane start printed no banner in 60 s: ${out} ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const lines = Object.fromEntries(
    out
      .split('\n')
      .filter((l) => l.includes(': '))
      .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
  );
  return { child, lines, stdout: () => out, exited };
}

async function stop(r: Running): Promise<number | null> {
  r.child.kill('SIGTERM');
  return r.exited;
}

async function enrolPublishQuery(
  t: { after: (fn: () => void | Promise<void>) => void },
  r: Running,
  deviceId: string,
  firstFrameSeq: number,
): Promise<number> {
  const http = `http://127.0.0.1:${r.lines['http port']}`;
  const auth = { authorization: `Bearer ${readFileSync(r.lines['admin token file'] as string, 'utf8').trim()}` };
  const enrol = await fetch(`${http}/api/v1/devices`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ deviceId, rotate: true }),
  });
  assert.equal(enrol.status, 201);
  const creds = (await enrol.json()) as { username: string; password: string; clientId: string };
  const client = await connectClient(t, `mqtt://127.0.0.1:${r.lines['mqtt port']}`, { protocolVersion: 4, ...creds });
  await publishAcked(
    client,
    detectionsTopic(deviceId),
    encodeDetectionBatch(makeBatch(deviceId, 'cam-1', { firstFrameSeq, frames: 3, perFrame: 2 })),
  );
  await client.endAsync();
  const res = await fetch(`${http}/api/v1/devices/${deviceId}/cameras/cam-1/detections?limit=100`, { headers: auth });
  assert.equal(res.status, 200);
  return ((await res.json()) as { detections: unknown[] }).detections.length;
}

test('control-plane start on the embedded defaults: prints ports and data directory, serves MQTT and REST, keeps data across a restart, stops on SIGTERM', async (tc) => {
  const t = lifo(tc);
  const dataDir = tempDir(tc);
  const first = await start({ CP_DATA_DIR: dataDir });
  t.after(() => void first.child.kill('SIGKILL'));
  assert.match(first.lines.mqtt ?? '', /^embedded mqtt:\/\/127\.0\.0\.1:\d+$/);
  assert.match(first.lines.http ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(first.lines['data dir'], dataDir);
  assert.equal(first.lines.database, `pglite ${join(dataDir, 'pglite')}`);
  assert.match(first.lines.grpc ?? '', /^127\.0\.0\.1:\d+ \(insecure\)$/);
  assert.match(first.lines['grpc port'] ?? '', /^[1-9]\d*$/);
  assert.match(first.lines['signing key'] ?? '', /^[0-9a-f]{16} [A-Za-z0-9+/]{43}=$/);
  // The bootstrap admin token: its path is printed, never the token; the file is private.
  const tokenFile = join(dataDir, 'admin.token');
  assert.equal(first.lines['admin token file'], tokenFile);
  assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
  assert.equal(statSync(join(dataDir, 'keys', 'model-signing-key.pem')).mode & 0o777, 0o600);
  assert.ok(!first.stdout().includes(readFileSync(tokenFile, 'utf8').trim()));
  assert.equal(await enrolPublishQuery(t, first, 'box-1', 1), 6);
  assert.equal(await stop(first), 0);
  assert.match(first.stdout(), /stopping \(SIGTERM\)\nstopped\n$/);

  // Same data directory: the rows are still there and new ones add up; same token and signing key.
  const second = await start({ CP_DATA_DIR: dataDir });
  t.after(() => void second.child.kill('SIGKILL'));
  assert.equal(second.lines['signing key'], first.lines['signing key']);
  assert.equal(await enrolPublishQuery(t, second, 'box-1', 4), 12);
  assert.equal(await stop(second), 0);
});

test('control-plane start with CP_DATABASE_URL uses PostgreSQL and prints the URL without its password', async (tc) => {
  const t = lifo(tc);
  const { url, drop } = await createDatabase();
  t.after(drop);
  const withPassword = new URL(url);
  withPassword.password = 'not-needed-with-trust-auth';
  const r = await start({ CP_DATA_DIR: tempDir(tc), CP_DATABASE_URL: withPassword.toString() });
  t.after(() => void r.child.kill('SIGKILL'));
  assert.match(r.lines.database ?? '', /^postgres postgres:\/\/postgres:\*\*\*@/);
  assert.ok(!r.stdout().includes('not-needed-with-trust-auth'));
  assert.equal(await enrolPublishQuery(t, r, 'box-pg', 1), 6);
  assert.equal(await stop(r), 0);
});

test('control-plane start refuses an invalid configuration with exit code 1 and names the problem', async () => {
  const child = spawn(process.execPath, [BIN, 'start'], {
    env: { ...process.env, CP_MQTT__MODE: 'sideways' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 1);
  assert.match(err, /CP_ERR_CONFIG_INVALID: .*\/mqtt\/mode.*\(from CP_MQTT__MODE\)/);
});
