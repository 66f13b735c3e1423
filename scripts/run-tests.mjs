// Runs every compiled test file of the monorepo with node:test (tsc -b has type-checked them first).
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';

const root = resolve(import.meta.dirname, '..');
const packages = ['service-kit', 'proto', 'vision', 'scenes', 'edge-agent', 'control-plane', 'test'];
const filter = process.argv.slice(2);

function collect(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...collect(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

// A compiled test whose TypeScript source was renamed or deleted is stale output: tsc -b leaves it behind.
const hasSource = (p) => (file) =>
  existsSync(join(root, p, file.slice(join(root, p, 'dist').length + 1).replace(/\.js$/, '.ts')));
const files = packages
  .flatMap((p) => collect(join(root, p, 'dist', 'test')).filter(hasSource(p)))
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)));

if (files.length === 0) {
  console.error('no test files found: did `npx tsc -b` run?');
  process.exit(1);
}
const shared = resolve(root, '..', 'shared');
if (!existsSync(join(shared, 'models'))) {
  console.error(
    `warning: shared test data missing at ${shared}; tests that need models/images will fail with that message`,
  );
}

// Native bindings (GStreamer pulls and bus polls) park libuv threadpool threads; give them room.
const env = { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '32' };
const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=600000', ...files], {
  stdio: 'inherit',
  env,
  cwd: root,
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
