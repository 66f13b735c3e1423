import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Cleanups, SHARED_DIR, sharedPath, tempDir } from '../src/testing/index.js';

describe('tempDir', () => {
  it('is removed with everything in it when its owner runs the cleanups', () => {
    const cleanups = new Cleanups();
    const dir = tempDir(cleanups, 'kit-test-');
    writeFileSync(join(dir, 'f'), 'x');
    assert.ok(existsSync(dir));
    cleanups.run();
    assert.equal(existsSync(dir), false);
    cleanups.run();
  });

  it('is removed after the test that made it', async (t) => {
    let dir = '';
    await t.test('inner', (inner) => {
      dir = tempDir(inner);
      assert.ok(existsSync(dir));
    });
    assert.equal(existsSync(dir), false);
  });
});

describe('shared test data', () => {
  it('fails naming the missing path', () => {
    const missing = join(SHARED_DIR, 'no-such-folder', 'x.onnx');
    assert.throws(
      () => sharedPath('no-such-folder', 'x.onnx'),
      (err: Error) => err.message.includes(missing),
    );
  });
});
