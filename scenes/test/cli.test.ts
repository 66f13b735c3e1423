import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { main } from '../src/cli.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'scenes.js');

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

test('bad arguments exit with code 2 and say what is wrong', async () => {
  const cases: [string[], RegExp][] = [
    [['generate', '--domain', 'day', '--count', '5', '--seed', '1'], /--out is required/],
    [
      ['generate', '--domain', 'day', '--count', 'five', '--seed', '1', '--out', '/tmp/x'],
      /--count must be an integer/,
    ],
    [['generate', '--domain', 'day', '--count', '0', '--seed', '1', '--out', '/tmp/x'], /--count must be within/],
    [['generate', '--domain', 'dusk', '--count', '5', '--seed', '1', '--out', '/tmp/x'], /unknown domain "dusk"/],
    [
      ['generate', '--domain', 'day', '--count', '5', '--seed', '1', '--out', '/tmp/x', '--split', '0.5,0.6,0.1'],
      /sum to 1/,
    ],
    [['generate', '--domain', 'day', '--count', '5', '--seed', '1', '--out', '/tmp/x', '--imgsz', '10'], /--imgsz/],
    [['generate', '--domain', 'day', '--count', '5', '--seed', '1', '--out', '/tmp/x', '--frobnicate'], /frobnicate/],
    [['generate', '--count', '5', '--seed', '1', '--out', '/tmp/x'], /--domain is required/],
    [['explode'], /unknown command "explode"/],
  ];
  for (const [argv, message] of cases) {
    const r = await run(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.stderr, message, argv.join(' '));
    assert.match(r.stderr, /usage:/);
    assert.equal(r.stdout, '');
  }
});

test('a non-empty output folder is an error with exit code 1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'scenes-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const args = ['generate', '--domain', 'day', '--count', '1', '--seed', '1', '--out', dir, '--imgsz', '32', '--quiet'];
  assert.equal((await run(args)).code, 0);
  const again = await run(args);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /SCENES_ERR_OUTPUT: .*not empty/);
});

test('the scenes bin generates a dataset, reports progress on stderr and a summary on stdout', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'scenes-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'ds');
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    [
      BIN,
      'generate',
      '--domain',
      'fog',
      '--count',
      '4',
      '--seed',
      '3',
      '--out',
      out,
      '--imgsz',
      '48x32',
      '--split',
      '0.5,0.25,0.25',
    ],
    { timeout: 60_000 },
  );
  const summary = JSON.parse(stdout);
  assert.deepEqual(summary.images, { train: 2, val: 1, test: 1 });
  assert.equal(summary.width, 48);
  assert.equal(summary.height, 32);
  assert.match(stderr, /scenes: 4\/4 images/);
  assert.equal(readdirSync(join(out, 'images', 'train')).length, 2);
  assert.ok(existsSync(join(out, 'data.yaml')));
});

test('render writes one PNG and prints its labels', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'scenes-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = await run(['render', '--domain', 'night', '--seed', '5', '--out', join(dir, 'a.png'), '--imgsz', '64x48']);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.width, 64);
  assert.ok(Array.isArray(result.labels));
  assert.ok(existsSync(join(dir, 'a.png')));
});
