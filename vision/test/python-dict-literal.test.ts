import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePythonDict, parsePythonLiteral, PythonLiteralError } from '../src/python-dict-literal.js';

describe('parsePythonLiteral', () => {
  it('parses an Ultralytics names dict with int keys and single-quoted values', () => {
    const dict = parsePythonDict("{0: 'person', 1: 'bicycle', 2: 'traffic light'}");
    assert.deepEqual(
      [...dict],
      [
        [0, 'person'],
        [1, 'bicycle'],
        [2, 'traffic light'],
      ],
    );
  });

  it('accepts double quotes, escapes, string keys, nesting and trailing commas', () => {
    const dict = parsePythonDict(
      `{ "a": "it's", 'b': 'say \\"hi\\"\\n', 'c': [1, -2, 3.5e1,], 'd': (True, False, None), 'e': {}, }`,
    );
    assert.equal(dict.get('a'), "it's");
    assert.equal(dict.get('b'), 'say "hi"\n');
    assert.deepEqual(dict.get('c'), [1, -2, 35]);
    assert.deepEqual(dict.get('d'), [true, false, null]);
    assert.deepEqual(dict.get('e'), new Map());
  });

  it('decodes \\x, \\u, \\U and octal escapes and keeps unknown escapes verbatim like Python', () => {
    assert.equal(parsePythonLiteral(String.raw`'\x41\u00e9\U0001F600\101\d'`), 'Aé😀A\\d');
  });

  it('parses imgsz lists', () => {
    assert.deepEqual(parsePythonLiteral('[640, 640]'), [640, 640]);
  });

  const malformed: Array<[string, RegExp]> = [
    ['', /unexpected end of input/],
    ["{0: 'person'", /expected ',' or '}'/],
    ["{0 'person'}", /expected ':'/],
    ["{0: 'person}", /unterminated string/],
    ["{0: 'a', 0: 'b'}", /duplicate dict key 0/],
    ['{0: person}', /unexpected name 'person'/],
    ["{[1]: 'a'}", /dict key must be an int or a string/],
    ["{0: 'a'} extra", /after the literal/],
    ["'bad \\x4'", /truncated \\x escape/],
    ["'line\nbreak'", /newline inside string/],
    ["{01: 'a'}", /malformed int '01'/],
    ['[1, 2', /expected ',' or ']'/],
    ["'''doc'''", /triple-quoted/],
  ];
  for (const [text, message] of malformed) {
    it(`rejects malformed input ${JSON.stringify(text)}`, () => {
      assert.throws(
        () => parsePythonLiteral(text),
        (err: unknown) => {
          assert.ok(err instanceof PythonLiteralError);
          assert.match(err.message, message);
          assert.match(err.message, /at offset \d+/);
          return true;
        },
      );
    });
  }

  it('parsePythonDict rejects a literal that is not a dict', () => {
    assert.throws(() => parsePythonDict('[1, 2]'), /expected a dict literal/);
  });
});
