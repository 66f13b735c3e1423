import type { TSchema } from '@sinclair/typebox';
import { envSegment, isArraySchema, isObjectSchema, leafKind } from './schema-walk.js';

/**
 * Environment overrides, derived from the schema paths:
 *
 *   EDGE_AGENT_ + path segments joined by `__`, each camelCase key written UPPER_SNAKE, array items by index.
 *
 *   EDGE_AGENT_DEVICE_ID=cam-box-7            → deviceId
 *   EDGE_AGENT_MODEL__PATH=/opt/models/y.onnx → model.path
 *   EDGE_AGENT_MODEL__TENSORRT_FP16=false     → model.tensorrtFp16
 *   EDGE_AGENT_MODEL__PROVIDERS=cuda,cpu      → model.providers (comma list or JSON array)
 *   EDGE_AGENT_METRICS__PORT=9500             → metrics.port
 *   EDGE_AGENT_CAMERAS__0__URI=rtsp://…       → cameras[0].uri (the item must exist in the file)
 *   EDGE_AGENT_OUTBOX='{"maxRows":100000}'    → a whole object as JSON
 *
 * Values are converted by the target's type (numbers, true/false/1/0/yes/no, lists); anything that does
 * not convert is kept as text so validation reports it with the variable's name. Unknown variable names
 * with the prefix are errors too: a misspelt override must not be silently ignored.
 */
export const ENV_PREFIX = 'EDGE_AGENT_';

/** Prefixed variables that are not configuration overrides. */
export const RESERVED_ENV: ReadonlySet<string> = new Set(['EDGE_AGENT_CONFIG']);

export interface EnvOverrideResult {
  readonly problems: string[];
  /** JSON pointer of each overridden value → the variable that set it (for error messages). */
  readonly sources: Map<string, string>;
}

type Container = Record<string, unknown> | unknown[];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Converts a variable's text to the leaf type; returns `{ problem }` when it cannot even be parsed. */
function convert(text: string, schema: TSchema): { value: unknown } | { problem: string } {
  switch (leafKind(schema)) {
    case 'number':
    case 'integer': {
      const n = Number(text);
      return { value: text.trim() !== '' && Number.isFinite(n) ? n : text };
    }
    case 'boolean': {
      const t = text.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(t)) return { value: true };
      if (['false', '0', 'no', 'off'].includes(t)) return { value: false };
      return { value: text };
    }
    case 'array': {
      if (text.trim().startsWith('[')) return parseJson(text);
      const items = (schema as TSchema & { items: TSchema }).items;
      const out: unknown[] = [];
      for (const part of text
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '')) {
        const c = convert(part, items);
        if ('problem' in c) return c;
        out.push(c.value);
      }
      return { value: out };
    }
    case 'object':
      return parseJson(text);
    default: {
      // A union such as `'auto' | integer`: a number where a numeric member exists, else the text.
      const members = ((schema as { anyOf?: TSchema[] }).anyOf ?? []).map(leafKind);
      const n = Number(text);
      if ((members.includes('integer') || members.includes('number')) && text.trim() !== '' && Number.isFinite(n))
        return { value: n };
      return { value: text };
    }
  }
}

function parseJson(text: string): { value: unknown } | { problem: string } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    return { problem: `value is not valid JSON (${(err as Error).message})` };
  }
}

/**
 * Applies every `EDGE_AGENT_*` variable to `raw` (the parsed file, modified in place).
 * Runs before defaults and validation, so overridden values are validated like file values.
 */
export function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv, schema: TSchema): EnvOverrideResult {
  const problems: string[] = [];
  const sources = new Map<string, string>();
  if (!isRecord(raw)) return { problems, sources };
  const names = Object.keys(env)
    .filter((n) => n.startsWith(ENV_PREFIX) && !RESERVED_ENV.has(n))
    .sort();
  for (const name of names) {
    const text = env[name] as string;
    const segments = name.slice(ENV_PREFIX.length).split('__');
    const fail = (why: string) => problems.push(`${name}: ${why}`);
    if (segments.some((s) => s === '')) {
      fail('empty path segment (use `__` only between keys)');
      continue;
    }
    let node: Container = raw;
    let nodeSchema = schema;
    let pointer = '';
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i] as string;
      const last = i === segments.length - 1;
      let key: string | number;
      let childSchema: TSchema;
      if (isObjectSchema(nodeSchema) && isRecord(node)) {
        const found = Object.keys(nodeSchema.properties).find((k) => envSegment(k) === seg);
        if (found === undefined) {
          const known = Object.keys(nodeSchema.properties).map(envSegment).join(', ');
          fail(`no setting ${seg} under ${pointer || '/'} (known: ${known})`);
          break;
        }
        key = found;
        childSchema = nodeSchema.properties[found] as TSchema;
      } else if (isArraySchema(nodeSchema) && Array.isArray(node)) {
        if (!/^[0-9]+$/.test(seg)) {
          fail(`${pointer} is a list: expected an item index, got ${seg}`);
          break;
        }
        key = Number(seg);
        if (key >= node.length) {
          fail(`${pointer} has ${node.length} item(s); there is no item ${key} to override (add it to the file)`);
          break;
        }
        childSchema = nodeSchema.items;
      } else {
        fail(`${pointer || '/'} is not an object or list in the configuration, cannot set ${seg} inside it`);
        break;
      }
      pointer += `/${key}`;
      const current: unknown = (node as Record<string | number, unknown>)[key];
      if (last) {
        const converted = convert(text, childSchema);
        if ('problem' in converted) fail(converted.problem);
        else {
          (node as Record<string | number, unknown>)[key] = converted.value;
          sources.set(pointer, name);
        }
        break;
      }
      if (current === undefined && isObjectSchema(childSchema)) {
        const created: Record<string, unknown> = {};
        (node as Record<string | number, unknown>)[key] = created;
        node = created;
      } else if (isRecord(current) || Array.isArray(current)) {
        node = current;
      } else {
        fail(
          `${pointer} is ${current === undefined ? 'missing' : 'not an object or list'} in the configuration, cannot override inside it`,
        );
        break;
      }
      nodeSchema = childSchema;
    }
  }
  return { problems, sources };
}
