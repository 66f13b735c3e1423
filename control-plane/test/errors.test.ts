import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CP_ERRORS, CpError, describeError, isCpError } from '../src/errors.js';

test('every control-plane error code has a message and an HTTP error status', () => {
  for (const [code, spec] of Object.entries(CP_ERRORS)) {
    assert.match(code, /^CP_ERR_[A-Z_]+$/);
    assert.ok(spec.message.length > 0, code);
    assert.ok(spec.status >= 400 && spec.status < 600, code);
  }
});

test('CpError carries code, status, detail and cause; describeError renders one line', () => {
  const cause = new Error('ENOENT');
  const err = new CpError('CP_ERR_DATASET_NOT_FOUND', '/data', { cause });
  assert.equal(err.code, 'CP_ERR_DATASET_NOT_FOUND');
  assert.equal(err.status, 404);
  assert.equal(err.message, 'dataset not found: /data');
  assert.ok(isCpError(err, 'CP_ERR_DATASET_NOT_FOUND'));
  assert.ok(!isCpError(err, 'CP_ERR_ARGS'));
  assert.equal(describeError(err), 'CP_ERR_DATASET_NOT_FOUND: dataset not found: /data (cause: ENOENT)');
  assert.equal(describeError('plain'), 'plain');
});
