import type { TSchema } from '@sinclair/typebox';
import type { EnvOverrideRules } from './env-overrides.js';
import { describeSchema, envSegment, isArraySchema, isObjectSchema } from './schema-walk.js';

/**
 * The configuration reference generated from the schema: one row per setting with its type, default,
 * environment override and description. An object schema with `sameAs: '<path>'` is documented once, at
 * that path, and referred to elsewhere.
 */

export interface ReferenceRow {
  /** Dotted path; `[]` marks list items, e.g. `cameras[].uri`. */
  readonly path: string;
  readonly type: string;
  /** JSON of the default, 'required', or '' when optional without default. */
  readonly default: string;
  readonly env: string;
  readonly description: string;
}

export interface ReferenceOptions {
  readonly schema: TSchema;
  readonly env: EnvOverrideRules;
  /** A list item's override named in the notes under the table; default: the first list item setting, item 0. */
  readonly itemExample?: string;
}

/** Every documented setting of a schema, depth first in declaration order. */
export function referenceRows({ schema, env }: ReferenceOptions): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  const walk = (s: TSchema, path: string, name: string, required: boolean) => {
    const sameAs = (s as { sameAs?: unknown }).sameAs;
    if (path !== '') rows.push(row({ schema: s, path, env: name, required }));
    if (typeof sameAs === 'string' && path !== '') return;
    if (isObjectSchema(s)) {
      const req = new Set(s.required ?? []);
      for (const [key, child] of Object.entries(s.properties)) {
        const childEnv = name === '' ? `${env.prefix}${envSegment(key)}` : `${name}__${envSegment(key)}`;
        walk(child, path === '' ? key : `${path}.${key}`, childEnv, req.has(key));
      }
    } else if (isArraySchema(s) && isObjectSchema(s.items)) {
      walk(s.items, `${path}[]`, `${name}__<i>`, false);
    }
  };
  walk(schema, '', '', true);
  // An object item row (`cameras[]`) says nothing the list row did not.
  return rows.filter((r) => !r.path.endsWith('[]'));
}

function row(options: { schema: TSchema; path: string; env: string; required: boolean }): ReferenceRow {
  const { schema, path, env, required } = options;
  const j = schema as Record<string, unknown>;
  const sameAs = typeof j.sameAs === 'string' ? j.sameAs : null;
  const isSection = isObjectSchema(schema) && sameAs === null;
  const hasDefault = 'default' in j;
  return {
    path,
    type: sameAs ? `object (fields of \`${sameAs}\`)` : describeSchema(schema),
    default: hasDefault && !isSection ? JSON.stringify(j.default) : required && !hasDefault ? 'required' : '',
    env,
    description: typeof j.description === 'string' ? j.description : '',
  };
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text: string) => `\`${text}\``;

/** `a`, `a and b`, `a, b and c`. */
function listing(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** The configuration reference as Markdown: the table, then how environment overrides are spelt. */
export function configReferenceMarkdown(options: ReferenceOptions): string {
  const rows = referenceRows(options);
  const { prefix, reserved = [], reservedPrefixes = [] } = options.env;
  const example = options.itemExample ?? rows.find((r) => r.env.includes('<i>'))?.env.replace('<i>', '0');
  const exceptions = [...reserved.map(code), ...reservedPrefixes.map((p) => code(`${p}*`))];
  const defaultCell = (r: ReferenceRow) =>
    r.default === 'required' ? 'required' : r.default ? code(cell(r.default)) : '';
  const lines = [
    '| Path | Type | Default | Environment override | Description |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) => `| ${code(r.path)} | ${cell(r.type)} | ${defaultCell(r)} | ${code(r.env)} | ${cell(r.description)} |`,
    ),
    '',
    `Environment overrides: ${code(prefix)} + the path with \`__\` between keys, each camelCase key in UPPER_SNAKE case, list items by index` +
      `${example ? ` (${code(example)})` : ''}. Numbers and booleans (\`true/false/1/0/yes/no\`) are converted, lists take \`a,b,c\` or JSON, ` +
      `objects take JSON. An unknown ${code(`${prefix}*`)} name is an error${exceptions.length > 0 ? ` (except ${listing(exceptions)})` : ''}. ` +
      `Relative paths are resolved against the config file's directory. Unknown keys are rejected.`,
  ];
  return lines.join('\n');
}
