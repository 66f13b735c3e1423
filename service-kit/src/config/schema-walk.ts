import type { TSchema } from '@sinclair/typebox';

/**
 * Small, structural helpers over the JSON Schema that TypeBox builds, shared by the error formatter,
 * the environment overrides, the derived-default check and the reference generator (so all of them
 * describe a field the same way).
 */

type Json = Record<string, unknown>;

export function isObjectSchema(
  s: TSchema,
): s is TSchema & { properties: Record<string, TSchema>; required?: string[] } {
  return (s as Json).type === 'object' && typeof (s as Json).properties === 'object';
}

export function isArraySchema(s: TSchema): s is TSchema & { items: TSchema } {
  return (s as Json).type === 'array';
}

/** The values of a union of string literals, or null for any other schema. */
export function literalValues(s: TSchema): string[] | null {
  const anyOf = (s as Json).anyOf as TSchema[] | undefined;
  if (!Array.isArray(anyOf) || !anyOf.every((a) => typeof (a as Json).const === 'string')) return null;
  return anyOf.map((a) => (a as Json).const as string);
}

/** Scalar kind a leaf holds: how an environment variable's text is converted. */
export type LeafKind = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'array' | 'object' | 'other';

export function leafKind(s: TSchema): LeafKind {
  if (literalValues(s)) return 'enum';
  const type = (s as Json).type;
  switch (type) {
    case 'string':
    case 'number':
    case 'integer':
    case 'boolean':
    case 'array':
    case 'object':
      return type;
    default:
      return 'other';
  }
}

/** Human description of what a schema accepts, e.g. `number >= 0.1 and <= 1000`, `one of "tcp", "udp"`. */
export function describeSchema(s: TSchema): string {
  const j = s as Json;
  const values = literalValues(s);
  if (values)
    return values.length === 1
      ? JSON.stringify(values[0])
      : `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (j.const !== undefined) return JSON.stringify(j.const);
  const bounds: string[] = [];
  if (typeof j.minimum === 'number') bounds.push(`>= ${j.minimum}`);
  if (typeof j.exclusiveMinimum === 'number') bounds.push(`> ${j.exclusiveMinimum}`);
  if (typeof j.maximum === 'number') bounds.push(`<= ${j.maximum}`);
  if (typeof j.exclusiveMaximum === 'number') bounds.push(`< ${j.exclusiveMaximum}`);
  switch (j.type) {
    case 'number':
    case 'integer':
      return [j.type, bounds.join(' and ')].filter(Boolean).join(' ');
    case 'string': {
      const parts: string[] = [j.minLength === 1 && !j.pattern ? 'non-empty string' : 'string'];
      if (typeof j.pattern === 'string') parts.push(`matching /${j.pattern}/`);
      if (typeof j.minLength === 'number' && j.minLength > 1) parts.push(`of at least ${j.minLength} characters`);
      if (typeof j.maxLength === 'number') parts.push(`of at most ${j.maxLength} characters`);
      return parts.join(' ');
    }
    case 'boolean':
      return 'boolean (true or false)';
    case 'array': {
      const items = describeSchema((s as TSchema & { items: TSchema }).items);
      const parts = [`array of ${items}`];
      if (typeof j.minItems === 'number' && j.minItems > 0)
        parts.push(`with at least ${j.minItems} item${j.minItems === 1 ? '' : 's'}`);
      if (j.uniqueItems === true) parts.push('without duplicates');
      return parts.join(' ');
    }
    case 'object':
      return 'object';
    default: {
      const anyOf = j.anyOf as TSchema[] | undefined;
      if (Array.isArray(anyOf)) return anyOf.map(describeSchema).join(' or ');
      return 'value';
    }
  }
}

/** `tensorrtFp16` → `TENSORRT_FP16`: the spelling of one path segment in an environment variable name. */
export function envSegment(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}
