import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { VISION_ERRORS, VisionError } from '../src/errors.js';

describe('vision error catalogue', () => {
  it('documents every code in vision/README.md', async () => {
    const readme = await readFile(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'README.md'), 'utf8');
    for (const code of Object.keys(VISION_ERRORS))
      assert.ok(readme.includes(`\`${code}\``), `${code} is not documented`);
  });

  it('carries code, catalogue message, detail and cause', () => {
    const cause = new Error('disk on fire');
    const err = new VisionError('VISION_ERR_MODEL_READ', '/m.onnx', { cause });
    assert.equal(err.code, 'VISION_ERR_MODEL_READ');
    assert.equal(err.message, 'model file cannot be read: /m.onnx');
    assert.equal(err.detail, '/m.onnx');
    assert.equal(err.cause, cause);
    assert.equal(new VisionError('VISION_ERR_CLOSED').message, 'detector is closed');
  });
});
