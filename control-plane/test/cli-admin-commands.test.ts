import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ControlPlane } from '../src/server/control-plane.js';
import { createPgliteStore } from '../src/storage/pglite-store.js';
import { main } from '../src/cli/main.js';
import { parseControlPlaneConfig } from '../src/config/load-control-plane-config.js';
import { silentLogger } from '@edgefleet/service-kit';
import type { CliIo } from '../src/cli/cli-io.js';
import type { Store } from '../src/storage/store.js';
import { corruptModel, tinyDetector, writeModelFile } from './model-files.js';
import { tempDir } from '@edgefleet/service-kit/testing';

/** The admin commands (`models`, `assign`, `promote`, `rollback`, `audit`, `signing-key`) against a running control plane. */

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('control-plane admin commands', () => {
  let store: Store;
  let cp: ControlPlane;
  let dir: string;
  let url: string;
  const cleanups: (() => void | Promise<void>)[] = [];
  const t = { after: (fn: () => void) => void cleanups.push(fn) };

  async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
    let stdout = '';
    let stderr = '';
    const io: CliIo = { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) };
    const code = await main(args, io, env);
    return { code, stdout, stderr };
  }
  const admin = (args: string[]) => run([...args, '--url', url, '--token', cp.adminToken as string]);

  before(async () => {
    store = await createPgliteStore();
    await store.migrate();
    dir = tempDir(t);
    const config = parseControlPlaneConfig({
      dataDir: join(dir, 'cp'),
      mqtt: { host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: 0 },
      grpc: { enabled: false },
    });
    cp = new ControlPlane(config, { store, logger: silentLogger });
    await cp.start();
    url = `http://127.0.0.1:${cp.info.http.port}`;
    await cp.store.enrolDevice('box-1', 'hash');
    await cp.store.registry.upsertCameras(
      'box-1',
      [{ cameraId: 'front', source: 'rtsp://x', status: 'running' }],
      Date.now(),
    );
  });
  after(async () => {
    await cp.stop();
    await store.close();
    for (const fn of cleanups.reverse()) await fn();
  });

  test('models upload registers a file and prints its serial; --json prints the record; models list shows a table', async () => {
    const up = await admin([
      'models',
      'upload',
      writeModelFile(dir, 'a.onnx', tinyDetector()),
      '--name',
      'street',
      '--version',
      '1',
    ]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(
      up.stdout,
      /^registered street:1 \(serial \d+\): yolov8 64x64, 2 classes, .* signed by key [0-9a-f]{16}\n$/,
    );
    const json = await admin([
      'models',
      'upload',
      writeModelFile(dir, 'b.onnx', tinyDetector()),
      '--name',
      'street',
      '--version',
      '2',
      '--json',
    ]);
    assert.equal(json.code, 0, json.stderr);
    const model = JSON.parse(json.stdout) as { name: string; version: string; serial: number };
    assert.deepEqual([model.name, model.version], ['street', '2']);
    const list = await admin(['models', 'list', '--name', 'street']);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^SERIAL +NAME +VERSION +ADAPTER +INPUT +CLASSES +SIZE +KEY +CREATED$/);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/ +/).slice(1, 3)),
      [
        ['street', '2'],
        ['street', '1'],
      ],
    );
  });

  test("assign, split, shadow, promote and rollback print the camera's new assignment", async () => {
    const a = await admin(['assign', 'box-1', 'front', '--model', 'street:1']);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /^box-1\/front revision \d+: primary street:1 \(serial \d+\)\n$/);
    const split = await admin([
      'assign',
      'box-1',
      'front',
      '--model',
      'street:1',
      '--candidate',
      'street:2',
      '--split',
      '10',
    ]);
    assert.match(split.stdout, /candidate street:2 \(serial \d+\) on 10% of frames/);
    const shadow = await admin(['assign', 'box-1', 'front', '--model', 'street:1', '--shadow', 'street:2', '--json']);
    assert.equal((JSON.parse(shadow.stdout) as { candidateMode: string }).candidateMode, 'shadow');
    const promoted = await admin(['promote', 'box-1', 'front', '--reason', 'better at night']);
    assert.match(promoted.stdout, /primary street:2 .*reason: better at night/);
    const back = await admin(['rollback', 'box-1', 'front']);
    assert.match(back.stdout, /primary street:1 \(serial \d+\) \(rollback; reason: rollback from model \d+ to \d+\)/);
    const named = await admin(['rollback', 'box-1', 'front', '--to', 'street:2', '--json']);
    assert.equal(
      (JSON.parse(named.stdout) as { rollback: boolean; primary: { version: string } }).primary.version,
      '2',
    );
  });

  test('audit prints the log newest first, limited', async () => {
    const res = await admin(['audit', '--limit', '3', '--target', 'camera:box-1/front']);
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? '', /#\d+ {2}token:bootstrap-admin {2}assignment\.rollback {2}camera:box-1\/front \{/);
  });

  test('signing-key prints the key id, the raw public key and its PEM; the token may come from CP_TOKEN', async () => {
    const res = await run(['signing-key', '--url', url], { CP_TOKEN: cp.adminToken as string });
    assert.equal(res.code, 0, res.stderr);
    assert.ok(
      res.stdout.includes(
        `key id: ${cp.info.signingKey.keyId}\npublic key: ${cp.info.signingKey.publicKeyBase64}\n-----BEGIN PUBLIC KEY-----`,
      ),
    );
  });

  test("errors: the API's code and message on stderr with exit 1; bad arguments exit 2 with the usage", async () => {
    const corrupt = await admin([
      'models',
      'upload',
      writeModelFile(dir, 'bad.onnx', corruptModel()),
      '--name',
      'street',
      '--version',
      '9',
    ]);
    assert.equal(corrupt.code, 1);
    assert.match(corrupt.stderr, /^control-plane models: CP_ERR_MODEL_CORRUPT: model is not a loadable ONNX file: /);
    const missing = await admin(['promote', 'box-1', 'front']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /CP_ERR_NO_CANDIDATE/);
    const wrongToken = await run(['models', 'list', '--url', url, '--token', 'cpt_wrong']);
    assert.equal(wrongToken.code, 1);
    assert.match(wrongToken.stderr, /CP_ERR_UNAUTHENTICATED/);
    const noToken = await run(['models', 'list', '--url', url]);
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /CP_ERR_ARGS: .*no API token/);
    const badSplit = await admin(['assign', 'box-1', 'front', '--model', '1', '--candidate', '2', '--split', '150']);
    assert.equal(badSplit.code, 2);
    assert.match(badSplit.stderr, /usage: control-plane assign/);
    const closed = await closedPort();
    const down = await run(['models', 'list', '--url', `http://127.0.0.1:${closed}`, '--token', 'x']);
    assert.equal(down.code, 1);
    assert.match(
      down.stderr,
      new RegExp(`CP_ERR_API: .*GET http://127\\.0\\.0\\.1:${closed}/api/v1/models: ECONNREFUSED`),
    );
  });
});
