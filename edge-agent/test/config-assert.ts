/**
 * Assertion helper of the configuration tests. Not a test file of its own.
 */
import assert from 'node:assert/strict';
import { EdgeError } from '../src/errors.js';

/** The problems an EDGE_ERR_CONFIG_INVALID lists; fails when `fn` does not throw one. */
export function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof EdgeError, `expected EdgeError, got ${String(err)}`);
    assert.equal(err.code, 'EDGE_ERR_CONFIG_INVALID');
    assert.ok(Array.isArray(err.details));
    return err.details as string[];
  }
  assert.fail('expected the configuration to be rejected');
}
