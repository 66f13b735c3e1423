import type { TSchema } from '@sinclair/typebox';

/**
 * Environment overrides derived from the schema paths: `CP_` + the path's keys in UPPER_SNAKE joined
 * by `__`. Examples:
 *
 *   CP_DATABASE_URL=postgres://…   → databaseUrl
 *   CP_DATA_DIR=/var/lib/cp        → dataDir
 *   CP_MQTT__MODE=external         → mqtt.mode
 *   CP_MQTT__PORT=0                → mqtt.port
 *   CP_HTTP__PORT=9000             → http.port
 *   CP_INGEST='{"batchMaxRows":1000}' → a whole object (or a list) as JSON
 *
 * Values are converted by the target type (numbers, true/false/1/0/yes/no); text that does not convert
 * is kept, so validation reports it with the variable's name. A prefixed variable that names no setting
 * is an error: a misspelt override must not be silently ignored.
 */
export const ENV_PREFIX = 'CP_';

/** Prefixed variables that are not configuration overrides (the CLI's config path and API token; test settings). */
export const RESERVED_ENV: ReadonlySet<string> = new Set(['CP_CONFIG', 'CP_TOKEN']);
const RESERVED_PREFIXES = ['CP_TEST_'];

type Json = Record<string, unknown>;

export interface EnvOverrideResult {
  readonly problems: string[];
  /** JSON pointer of each overridden value → the variable that set it. */
  readonly sources: Map<string, string>;
}

export function envSegment(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function isObjectSchema(s: TSchema): s is TSchema & { properties: Record<string, TSchema> } {
  return (s as Json).type === 'object' && typeof (s as Json).properties === 'object';
}

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function convert(text: string, schema: TSchema): { value: unknown } | { problem: string } {
  const type = (schema as Json).type;
  if (type === 'number' || type === 'integer') {
    const n = Number(text);
    return { value: text.trim() !== '' && Number.isFinite(n) ? n : text };
  }
  if (type === 'boolean') {
    const t = text.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(t)) return { value: true };
    if (['false', '0', 'no', 'off'].includes(t)) return { value: false };
    return { value: text };
  }
  if (type === 'object' || type === 'array') {
    try {
      return { value: JSON.parse(text) as unknown };
    } catch (err) {
      return { problem: `value is not valid JSON (${(err as Error).message})` };
    }
  }
  return { value: text };
}

/** Applies every `CP_*` variable to `raw` (modified in place) before defaults and validation. */
export function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv, schema: TSchema): EnvOverrideResult {
  const problems: string[] = [];
  const sources = new Map<string, string>();
  if (!isRecord(raw)) return { problems, sources };
  const names = Object.keys(env)
    .filter((n) => n.startsWith(ENV_PREFIX) && !RESERVED_ENV.has(n) && !RESERVED_PREFIXES.some((p) => n.startsWith(p)))
    .sort();
  for (const name of names) {
    const segments = name.slice(ENV_PREFIX.length).split('__');
    let node: Json = raw;
    let nodeSchema: TSchema = schema;
    let pointer = '';
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i] as string;
      if (!isObjectSchema(nodeSchema)) {
        problems.push(`${name}: ${pointer || '/'} has no settings inside it`);
        break;
      }
      const key = Object.keys(nodeSchema.properties).find((k) => envSegment(k) === seg);
      if (key === undefined) {
        const known = Object.keys(nodeSchema.properties).map(envSegment).join(', ');
        problems.push(`${name}: no setting ${seg} under ${pointer || '/'} (known: ${known})`);
        break;
      }
      const childSchema = nodeSchema.properties[key] as TSchema;
      pointer += `/${key}`;
      if (i === segments.length - 1) {
        const converted = convert(env[name] as string, childSchema);
        if ('problem' in converted) problems.push(`${name}: ${converted.problem}`);
        else {
          node[key] = converted.value;
          sources.set(pointer, name);
        }
        break;
      }
      const current = node[key];
      if (current === undefined) node[key] = {};
      else if (!isRecord(current)) {
        problems.push(`${name}: ${pointer} is not an object in the configuration`);
        break;
      }
      node = node[key] as Json;
      nodeSchema = childSchema;
    }
  }
  return { problems, sources };
}
