import type { TSchema } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { describeSchema, isObjectSchema } from './schema-walk.js';

/** Shows a received value briefly: `"fast"`, `12`, `{…}` for big ones, `nothing` when absent. */
export function renderValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/**
 * One line per bad path, saying what was expected and what was found, e.g.
 * `/cameras/1/fps: expected number >= 0.1 and <= 1000, got "fast"`. Only the first error per path is
 * kept (a missing property also fails its type check; the first message is the useful one).
 * `sources` names the environment variable behind an overridden path.
 */
export function formatSchemaErrors(
  errors: Iterable<ValueError>,
  sources: ReadonlyMap<string, string> = new Map(),
): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of errors) {
    if (seen.has(e.path)) continue;
    seen.add(e.path);
    const where = e.path === '' ? '/' : e.path;
    const from = sources.get(e.path);
    const suffix = from ? ` (from ${from})` : '';
    out.push(`${where}: ${explain(e)}${suffix}`);
  }
  return out;
}

function explain(e: ValueError): string {
  const schema = e.schema as TSchema;
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return `required, expected ${describeSchema(schema)}`;
    case ValueErrorType.ObjectAdditionalProperties: {
      const allowed = isObjectSchema(schema) ? Object.keys(schema.properties).join(', ') : '';
      return `unknown key (allowed here: ${allowed})`;
    }
    default:
      return `expected ${describeSchema(schema)}, got ${renderValue(e.value)}`;
  }
}
