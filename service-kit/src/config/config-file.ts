import { readFileSync } from 'node:fs';
import type { ConfigErrors } from './config-errors.js';

export interface ReadConfigFileOptions {
  readonly path: string;
  readonly errors: ConfigErrors;
}

/** Where a JSON syntax error is: 1-based line and column, and the 0-based character position. */
export interface JsonSyntaxPosition {
  readonly line: number;
  readonly column: number;
  readonly position: number;
}

/** The JSON of a configuration file (a leading BOM ignored); a read error, or a syntax error with its line and column. */
export function readConfigFile({ path, errors }: ReadConfigFileOptions): unknown {
  const text = readText({ path, errors });
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const message = (err as Error).message;
    const where = jsonSyntaxPosition(text, message);
    throw errors.read(`${path}:${where.line}:${where.column}: invalid JSON: ${message}`, {
      cause: err,
      details: { path, ...where },
    });
  }
}

function readText({ path, errors }: ReadConfigFileOptions): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw errors.read(`${path}: ${code} (${(err as Error).message})`, { cause: err, details: { path } });
  }
}

/** Line and column of the position V8 names in a JSON.parse message (`at position N`); the end of the text when it names none. */
export function jsonSyntaxPosition(text: string, message: string): JsonSyntaxPosition {
  const m = /at position (\d+)/.exec(message);
  const position = m ? Number(m[1]) : text.length;
  const before = text.slice(0, position);
  return { line: before.split('\n').length, column: position - before.lastIndexOf('\n'), position };
}
