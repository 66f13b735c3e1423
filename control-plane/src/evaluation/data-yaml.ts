/**
 * Minimal reader for Ultralytics dataset YAML (no YAML dependency). Understands what dataset files
 * actually contain: top-level `key: value` pairs, `#` comments, single/double-quoted or plain
 * scalars, flow lists `[a, b]`, flow maps `{0: a, 1: b}`, block lists (`- a`) and block maps
 * (`  0: a`) one level deep — e.g. `names:` as a list or as an index → name map, and
 * `train:` / `val:` / `test:` as one path or a list of paths.
 */

import { CpError } from '../errors.js';

export type YamlValue = string | string[] | Record<string, string>;

function fail(file: string, line: number, detail: string): never {
  throw new CpError('CP_ERR_DATASET_YAML', `${file}:${line}: ${detail}`);
}

/** Removes a trailing `# comment` that is not inside quotes. */
function stripComment(s: string): string {
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(s[i - 1] as string))) {
      return s.slice(0, i);
    }
  }
  return s;
}

function unquote(raw: string, file: string, line: number): string {
  const s = raw.trim();
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) {
    try {
      return JSON.parse(s) as string;
    } catch {
      fail(file, line, `bad double-quoted string ${s}`);
    }
  }
  if (s.length >= 2 && s.startsWith("'") && s.endsWith("'")) return s.slice(1, -1).replace(/''/g, "'");
  return s;
}

/** Splits `a, 'b, c', d` on top-level commas. */
function splitFlow(inner: string): string[] {
  const out: string[] = [];
  let quote: string | null = null;
  let cur = '';
  for (const c of inner) {
    if (quote) {
      if (c === quote) quote = null;
      cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur += c;
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  if (cur.trim() !== '') out.push(cur);
  return out;
}

function splitKey(text: string): [string, string] | null {
  // Key: plain or quoted, followed by ':' and a space or the end of the line.
  const m = /^("[^"]*"|'[^']*'|[^:#\s][^:]*?)\s*:(?:\s+(.*)|$)/.exec(text);
  if (!m) return null;
  return [m[1] as string, m[2] ?? ''];
}

function parseInline(raw: string, file: string, line: number): YamlValue {
  const s = raw.trim();
  if (s.startsWith('[')) {
    if (!s.endsWith(']')) fail(file, line, `unterminated flow list ${s}`);
    return splitFlow(s.slice(1, -1)).map((x) => unquote(x, file, line));
  }
  if (s.startsWith('{')) {
    if (!s.endsWith('}')) fail(file, line, `unterminated flow map ${s}`);
    const map: Record<string, string> = {};
    for (const entry of splitFlow(s.slice(1, -1))) {
      const kv = splitKey(entry.trim());
      if (!kv) fail(file, line, `bad flow map entry "${entry.trim()}"`);
      map[unquote(kv[0], file, line)] = unquote(kv[1], file, line);
    }
    return map;
  }
  return unquote(s, file, line);
}

/** Parses the top-level keys of a dataset YAML file's text. */
export function parseDataYaml(text: string, file = 'data.yaml'): Record<string, YamlValue> {
  const out: Record<string, YamlValue> = {};
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let current: {
    key: string;
    indent: number | null;
    list: string[] | null;
    map: Record<string, string> | null;
  } | null = null;
  // Inside a `key: |` or `key: >` block scalar (e.g. Ultralytics' `download:` scripts): collected raw.
  let scalar: { key: string; lines: string[] } | null = null;
  lines.forEach((rawLine, idx) => {
    const lineNo = idx + 1;
    if (scalar) {
      if (rawLine.trim() === '' || /^\s/.test(rawLine)) {
        scalar.lines.push(rawLine.trim());
        out[scalar.key] = scalar.lines.join('\n').trim();
        return;
      }
      scalar = null;
    }
    if (rawLine.includes('\t') && /^\s*\t/.test(rawLine)) fail(file, lineNo, 'tabs are not allowed for indentation');
    const line = stripComment(rawLine).replace(/\s+$/, '');
    if (line.trim() === '' || line.trim() === '---') return;
    const indent = line.length - line.trimStart().length;
    const body = line.trim();
    if (indent === 0 && !body.startsWith('- ')) {
      const kv = splitKey(body);
      if (!kv) fail(file, lineNo, `expected "key: value", got "${body}"`);
      const key = unquote(kv[0], file, lineNo);
      if (key in out) fail(file, lineNo, `duplicate key "${key}"`);
      if (kv[1].trim() === '') {
        current = { key, indent: null, list: null, map: null };
        out[key] = '';
      } else if (/^[|>][-+]?$/.test(kv[1].trim())) {
        current = null;
        scalar = { key, lines: [] };
        out[key] = '';
      } else {
        current = null;
        out[key] = parseInline(kv[1], file, lineNo);
      }
      return;
    }
    const block = current as {
      key: string;
      indent: number | null;
      list: string[] | null;
      map: Record<string, string> | null;
    } | null;
    if (!block) fail(file, lineNo, `unexpected indented line "${body}"`);
    if (block.indent === null) block.indent = indent;
    if (body === '-' || body.startsWith('- ')) {
      if (block.map) fail(file, lineNo, `list item inside the map "${block.key}"`);
      block.list ??= [];
      block.list.push(unquote(body.slice(1), file, lineNo));
      out[block.key] = block.list;
      return;
    }
    if (indent !== block.indent)
      fail(file, lineNo, `nesting deeper than one level under "${block.key}" is not supported`);
    const kv = splitKey(body);
    if (!kv) fail(file, lineNo, `expected "key: value" under "${block.key}", got "${body}"`);
    if (block.list) fail(file, lineNo, `map entry inside the list "${block.key}"`);
    block.map ??= {};
    block.map[unquote(kv[0], file, lineNo)] = unquote(kv[1], file, lineNo);
    out[block.key] = block.map;
  });
  return out;
}
