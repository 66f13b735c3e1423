/**
 * Strict parser for the subset of Python literals that Ultralytics writes into ONNX metadata
 * (`str(dict)` / `str(list)`): dicts, lists, tuples, ints, floats, strings, True/False/None.
 * No `eval`: anything outside the grammar is an error naming the offset and what was expected.
 */

export type PyKey = number | string;
export type PyValue = number | string | boolean | null | PyValue[] | PyDict;
export type PyDict = Map<PyKey, PyValue>;

export class PythonLiteralError extends Error {
  readonly position: number;

  constructor(message: string, position: number) {
    super(`${message} at offset ${position}`);
    this.name = 'PythonLiteralError';
    this.position = position;
  }
}

// Python's single-character escapes (str literal grammar, "Escape sequences").
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

class Parser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parseDocument(): PyValue {
    const value = this.parseValue();
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(`unexpected '${this.text[this.pos]}' after the literal`);
    return value;
  }

  private fail(message: string, at = this.pos): never {
    throw new PythonLiteralError(message, at);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private peek(): string | undefined {
    this.skipSpace();
    return this.text[this.pos];
  }

  private expect(ch: string): void {
    if (this.peek() !== ch) this.fail(`expected '${ch}' but found ${this.describeHere()}`);
    this.pos++;
  }

  private describeHere(): string {
    const ch = this.text[this.pos];
    return ch === undefined ? 'end of input' : `'${ch}'`;
  }

  private parseValue(): PyValue {
    const ch = this.peek();
    if (ch === undefined) this.fail('unexpected end of input, expected a value');
    if (ch === '{') return this.parseDict();
    if (ch === '[') return this.parseSequence('[', ']');
    if (ch === '(') return this.parseSequence('(', ')');
    if (ch === "'" || ch === '"') return this.parseString();
    if (ch === '-' || ch === '+' || ch === '.' || (ch >= '0' && ch <= '9')) return this.parseNumber();
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos))?.[0];
    if (word === 'True' || word === 'False' || word === 'None') {
      this.pos += word.length;
      return word === 'None' ? null : word === 'True';
    }
    return this.fail(`unexpected ${word ? `name '${word}'` : this.describeHere()}, expected a value`);
  }

  private parseDict(): PyDict {
    const start = this.pos;
    this.expect('{');
    const dict: PyDict = new Map();
    while (this.peek() !== '}') {
      const keyAt = this.pos;
      const key = this.parseValue();
      if (typeof key !== 'string' && !(typeof key === 'number' && Number.isInteger(key))) {
        this.fail('dict key must be an int or a string', keyAt);
      }
      if (dict.has(key)) this.fail(`duplicate dict key ${JSON.stringify(key)}`, keyAt);
      this.expect(':');
      dict.set(key, this.parseValue());
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== '}')
        this.fail(`expected ',' or '}' in dict opened at offset ${start} but found ${this.describeHere()}`);
    }
    this.pos++;
    return dict;
  }

  private parseSequence(open: string, close: string): PyValue[] {
    const start = this.pos;
    this.expect(open);
    const items: PyValue[] = [];
    while (this.peek() !== close) {
      items.push(this.parseValue());
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== close) {
        this.fail(`expected ',' or '${close}' in sequence opened at offset ${start} but found ${this.describeHere()}`);
      }
    }
    this.pos++;
    return items;
  }

  private parseNumber(): number {
    const m = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(this.text.slice(this.pos));
    if (!m) return this.fail(`malformed number starting with ${this.describeHere()}`);
    const literal = m[0];
    // Python 3 rejects leading zeros in non-zero decimal ints ("01").
    if (/^[+-]?0\d/.test(literal) && !/[.eE]/.test(literal)) this.fail(`malformed int '${literal}'`);
    this.pos += literal.length;
    return Number(literal);
  }

  private parseString(): string {
    const start = this.pos;
    const quote = this.text[this.pos]!;
    if (this.text.startsWith(quote.repeat(3), this.pos)) this.fail('triple-quoted strings are not supported');
    this.pos++;
    let out = '';
    for (;;) {
      const ch = this.text[this.pos];
      if (ch === undefined) this.fail(`unterminated string opened at offset ${start}`);
      if (ch === '\n') this.fail(`newline inside string opened at offset ${start}`);
      this.pos++;
      if (ch === quote) return out;
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      out += this.parseEscape();
    }
  }

  private parseEscape(): string {
    const escAt = this.pos - 1;
    const ch = this.text[this.pos];
    if (ch === undefined) return this.fail('unterminated escape sequence', escAt);
    this.pos++;
    const simple = SIMPLE_ESCAPES[ch];
    if (simple !== undefined) return simple;
    if (ch === '\n') return ''; // line continuation
    if (ch >= '0' && ch <= '7') {
      let digits = ch;
      while (digits.length < 3 && /[0-7]/.test(this.text[this.pos] ?? '')) digits += this.text[this.pos++];
      return String.fromCodePoint(parseInt(digits, 8));
    }
    const hexLength = ch === 'x' ? 2 : ch === 'u' ? 4 : ch === 'U' ? 8 : 0;
    if (hexLength > 0) {
      const hex = this.text.slice(this.pos, this.pos + hexLength);
      if (!new RegExp(`^[0-9A-Fa-f]{${hexLength}}$`).test(hex)) {
        this.fail(`truncated \\${ch} escape (needs ${hexLength} hex digits)`, escAt);
      }
      const code = parseInt(hex, 16);
      if (code > 0x10ffff) this.fail(`\\${ch}${hex} is not a valid code point`, escAt);
      this.pos += hexLength;
      return String.fromCodePoint(code);
    }
    if (ch === 'N') this.fail('named unicode escapes (\\N{...}) are not supported', escAt);
    // Python keeps unrecognised escapes verbatim (backslash included).
    return `\\${ch}`;
  }
}

/** Parses one Python literal (e.g. `{0: 'person', 1: "bicycle"}` or `[640, 640]`). */
export function parsePythonLiteral(text: string): PyValue {
  return new Parser(text).parseDocument();
}

/** Parses a Python dict literal; anything else is an error. */
export function parsePythonDict(text: string): PyDict {
  const value = parsePythonLiteral(text);
  if (!(value instanceof Map)) throw new PythonLiteralError('expected a dict literal', 0);
  return value;
}
