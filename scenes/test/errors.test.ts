import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SCENES_ERRORS, ScenesError } from '../src/errors.js';

const README = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'README.md');

test('every error code is documented in the README', () => {
  const text = readFileSync(README, 'utf8');
  for (const code of Object.keys(SCENES_ERRORS)) assert.match(text, new RegExp(`\`${code}\``), code);
});

test('ScenesError carries its code, the catalogue message and the detail', () => {
  const cause = new Error('disk full');
  const err = new ScenesError('SCENES_ERR_OUTPUT', '/x', { cause });
  assert.equal(err.code, 'SCENES_ERR_OUTPUT');
  assert.equal(err.message, 'dataset output cannot be written: /x');
  assert.equal(err.cause, cause);
});
