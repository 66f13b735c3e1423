import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VisionError } from '../src/errors.js';
import { parseClassNames, parseImgsz } from '../src/ultralytics-metadata.js';

function isMetadataError(pattern: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof VisionError);
    assert.equal(err.code, 'VISION_ERR_MODEL_METADATA');
    assert.match(err.message, pattern);
    return true;
  };
}

describe('Ultralytics metadata', () => {
  it('orders class names by their int keys', () => {
    assert.deepEqual(parseClassNames("{1: 'b', 0: 'a', 2: 'c'}"), ['a', 'b', 'c']);
  });

  it('accepts a names list', () => {
    assert.deepEqual(parseClassNames("['a', 'b']"), ['a', 'b']);
  });

  it('rejects names with a gap in the keys', () => {
    assert.throws(() => parseClassNames("{0: 'a', 2: 'c'}"), isMetadataError(/key 2; keys must be the ints 0..1/));
  });

  it('rejects names whose values are not strings', () => {
    assert.throws(() => parseClassNames('{0: 1}'), isMetadataError(/value for key 0 is not a string/));
  });

  it('reports a syntax error in names with the metadata key and offset', () => {
    assert.throws(
      () => parseClassNames("{0: 'a'"),
      isMetadataError(/'names' is not a valid Python literal: .*at offset 7/),
    );
  });

  it('parses imgsz as [height, width] or a single int', () => {
    assert.deepEqual(parseImgsz('[480, 640]'), { height: 480, width: 640 });
    assert.deepEqual(parseImgsz('320'), { height: 320, width: 320 });
  });

  it('rejects imgsz that is not two positive ints', () => {
    assert.throws(() => parseImgsz('[640]'), isMetadataError(/'imgsz' must be/));
    assert.throws(() => parseImgsz('[640, 0]'), isMetadataError(/'imgsz' must be/));
    assert.throws(() => parseImgsz("'640'"), isMetadataError(/'imgsz' must be/));
  });
});
