import type { TSchema } from '@sinclair/typebox';
import { envSegment, isArraySchema, isObjectSchema, leafKind } from './schema-walk.js';

/**
 * Environment overrides, derived from the schema paths: the program's prefix + path segments joined by
 * `__`, each camelCase key written UPPER_SNAKE, list items by index. With the prefix `EDGE_AGENT_`:
 *
 *   EDGE_AGENT_DEVICE_ID=cam-box-7            → deviceId
 *   EDGE_AGENT_MODEL__TENSORRT_FP16=false     → model.tensorrtFp16
 *   EDGE_AGENT_MODEL__PROVIDERS=cuda,cpu      → model.providers (comma list or JSON array)
 *   EDGE_AGENT_CAMERAS__0__URI=rtsp://…       → cameras[0].uri (the item must exist in the file)
 *   EDGE_AGENT_OUTBOX='{"maxRows":100000}'    → a whole object as JSON
 *
 * Values are converted by the target's type (numbers, true/false/1/0/yes/no/on/off, lists); anything that
 * does not convert is kept as text so validation reports it with the variable's name. Unknown variable
 * names with the prefix are errors too: a misspelt override must not be silently ignored.
 */
export interface EnvOverrideRules {
  /** Every variable starting with it is an override, e.g. `EDGE_AGENT_`. */
  readonly prefix: string;
  /** Prefixed variables that are not overrides (the config file's path, a CLI token). */
  readonly reserved?: readonly string[];
  /** Prefixes of variables that are not overrides either (e.g. test settings). */
  readonly reservedPrefixes?: readonly string[];
}

export interface ApplyEnvOverridesOptions {
  /** The parsed file, modified in place. */
  readonly raw: unknown;
  readonly env: NodeJS.ProcessEnv;
  readonly schema: TSchema;
  readonly rules: EnvOverrideRules;
}

export interface EnvOverrideResult {
  readonly problems: string[];
  /** JSON pointer of each overridden value → the variable that set it (for error messages). */
  readonly sources: Map<string, string>;
}

type Container = Record<string | number, unknown>;
type Converted = { value: unknown } | { problem: string };

interface Cursor {
  readonly node: Container;
  readonly schema: TSchema;
  /** JSON pointer of `node`, '' at the root. */
  readonly pointer: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The override variables in `env`, sorted so problems come in a stable order. */
export function overrideNames(env: NodeJS.ProcessEnv, rules: EnvOverrideRules): string[] {
  const reserved = new Set(rules.reserved ?? []);
  const prefixes = rules.reservedPrefixes ?? [];
  return Object.keys(env)
    .filter((n) => n.startsWith(rules.prefix) && !reserved.has(n) && !prefixes.some((p) => n.startsWith(p)))
    .sort();
}

/**
 * Applies every override in `env` to `raw`. Runs before defaults and validation, so overridden values are
 * validated like file values.
 */
export function applyEnvOverrides({ raw, env, schema, rules }: ApplyEnvOverridesOptions): EnvOverrideResult {
  const problems: string[] = [];
  const sources = new Map<string, string>();
  if (!isRecord(raw)) return { problems, sources };
  for (const name of overrideNames(env, rules)) {
    const segments = name.slice(rules.prefix.length).split('__');
    const problem = segments.some((s) => s === '')
      ? 'empty path segment (use `__` only between keys)'
      : applyOne({ root: { node: raw, schema, pointer: '' }, segments, text: env[name] as string, name, sources });
    if (problem !== undefined) problems.push(`${name}: ${problem}`);
  }
  return { problems, sources };
}

interface ApplyOne {
  readonly root: Cursor;
  readonly segments: readonly string[];
  readonly text: string;
  readonly name: string;
  readonly sources: Map<string, string>;
}

/** Walks the segments down the value and its schema and sets the leaf; returns the problem, if any. */
function applyOne({ root, segments, text, name, sources }: ApplyOne): string | undefined {
  let cursor = root;
  for (const [i, segment] of segments.entries()) {
    const child = childOf(cursor, segment);
    if ('problem' in child) return child.problem;
    const pointer = `${cursor.pointer}/${child.key}`;
    if (i === segments.length - 1) {
      const converted = convert(text, child.schema);
      if ('problem' in converted) return converted.problem;
      cursor.node[child.key] = converted.value;
      sources.set(pointer, name);
      return undefined;
    }
    const next = descend(cursor.node, child.key, child.schema, pointer);
    if (typeof next === 'string') return next;
    cursor = { node: next, schema: child.schema, pointer };
  }
  return undefined;
}

/** The key a segment names under the cursor (an object's setting or a list's item index), with its schema. */
function childOf(cursor: Cursor, segment: string): { key: string | number; schema: TSchema } | { problem: string } {
  const { node, schema, pointer } = cursor;
  if (isObjectSchema(schema) && isRecord(node)) {
    const found = Object.keys(schema.properties).find((k) => envSegment(k) === segment);
    if (found !== undefined) return { key: found, schema: schema.properties[found] as TSchema };
    const known = Object.keys(schema.properties).map(envSegment).join(', ');
    return { problem: `no setting ${segment} under ${pointer || '/'} (known: ${known})` };
  }
  if (isArraySchema(schema) && Array.isArray(node)) {
    if (!/^[0-9]+$/.test(segment)) return { problem: `${pointer} is a list: expected an item index, got ${segment}` };
    const index = Number(segment);
    if (index >= node.length) {
      return {
        problem: `${pointer} has ${node.length} item(s); there is no item ${index} to override (add it to the file)`,
      };
    }
    return { key: index, schema: schema.items };
  }
  return {
    problem: `${pointer || '/'} is not an object or list in the configuration, cannot set ${segment} inside it`,
  };
}

/** The container at `key` to walk into, created when it is a missing object; or the problem. */
function descend(node: Container, key: string | number, schema: TSchema, pointer: string): Container | string {
  const current = node[key];
  if (current === undefined && isObjectSchema(schema)) {
    const created: Container = {};
    node[key] = created;
    return created;
  }
  if (isRecord(current) || Array.isArray(current)) return current as Container;
  const what = current === undefined ? 'missing' : 'not an object or list';
  return `${pointer} is ${what} in the configuration, cannot override inside it`;
}

/** Converts a variable's text to the leaf type; `{ problem }` when it cannot even be parsed. */
function convert(text: string, schema: TSchema): Converted {
  switch (leafKind(schema)) {
    case 'number':
    case 'integer':
      return { value: toNumber(text) ?? text };
    case 'boolean':
      return { value: toBoolean(text) ?? text };
    case 'array':
      return text.trim().startsWith('[') ? parseJson(text) : convertList(text, schema);
    case 'object':
      return parseJson(text);
    default: {
      // A union such as `'auto' | integer`: a number where a numeric member exists, else the text.
      const members = ((schema as { anyOf?: TSchema[] }).anyOf ?? []).map(leafKind);
      const numeric = members.includes('integer') || members.includes('number');
      return { value: (numeric ? toNumber(text) : undefined) ?? text };
    }
  }
}

function toNumber(text: string): number | undefined {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : undefined;
}

function toBoolean(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(t)) return true;
  if (['false', '0', 'no', 'off'].includes(t)) return false;
  return undefined;
}

/** `a, b,c` → items converted by the item schema. */
function convertList(text: string, schema: TSchema): Converted {
  const items = (schema as TSchema & { items: TSchema }).items;
  const out: unknown[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const c = convert(part, items);
    if ('problem' in c) return c;
    out.push(c.value);
  }
  return { value: out };
}

function parseJson(text: string): Converted {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    return { problem: `value is not valid JSON (${(err as Error).message})` };
  }
}
