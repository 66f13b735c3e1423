import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CP_ERRORS } from '../src/errors.js';

// dist/test/ → the package root, where README.md lives.
const README = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'README.md');

test('every CP_ERR_* code is documented in control-plane/README.md', () => {
  const readme = readFileSync(README, 'utf8');
  const missing = Object.keys(CP_ERRORS).filter((code) => !readme.includes(`\`${code}\``));
  assert.deepEqual(missing, []);
});
