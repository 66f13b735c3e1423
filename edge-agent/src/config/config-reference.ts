import type { TSchema } from '@sinclair/typebox';
import { AgentConfigSchema } from './agent-config-schema.js';
import { ENV_PREFIX } from './env-overrides.js';
import { describeSchema, envSegment, isArraySchema, isObjectSchema } from './schema-walk.js';

export interface ReferenceRow {
  /** Dotted path; `[]` marks list items, e.g. `cameras[].uri`. */
  readonly path: string;
  readonly type: string;
  /** JSON of the default, 'required', or '' when optional without default. */
  readonly default: string;
  readonly env: string;
  readonly description: string;
}

/** Every documented setting of a schema, depth first in declaration order. */
export function referenceRows(schema: TSchema = AgentConfigSchema): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  const walk = (s: TSchema, path: string, env: string, required: boolean) => {
    const j = s as Record<string, unknown>;
    if (path !== '') {
      const sameAs = typeof j.sameAs === 'string' ? j.sameAs : null;
      const isSection = isObjectSchema(s) && sameAs === null;
      rows.push({
        path,
        type: sameAs ? `object (fields of \`${sameAs}\`)` : describeSchema(s),
        default:
          'default' in j && !isSection ? JSON.stringify(j.default) : required && !('default' in j) ? 'required' : '',
        env,
        description: typeof j.description === 'string' ? j.description : '',
      });
      if (sameAs) return;
    }
    if (isObjectSchema(s)) {
      const req = new Set(s.required ?? []);
      for (const [key, child] of Object.entries(s.properties)) {
        const childEnv = env === '' ? `${ENV_PREFIX}${envSegment(key)}` : `${env}__${envSegment(key)}`;
        walk(child, path === '' ? key : `${path}.${key}`, childEnv, req.has(key));
      }
    } else if (isArraySchema(s) && isObjectSchema(s.items)) {
      walk(s.items, `${path}[]`, `${env}__<i>`, false);
    }
  };
  walk(schema, '', '', true);
  // An object item row (`cameras[]`) says nothing the list row did not.
  return rows.filter((r) => !r.path.endsWith('[]'));
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The configuration reference as Markdown (the README includes this output). */
export function configReferenceMarkdown(schema: TSchema = AgentConfigSchema): string {
  const lines = [
    '| Path | Type | Default | Environment override | Description |',
    '| --- | --- | --- | --- | --- |',
    ...referenceRows(schema).map(
      (r) =>
        `| \`${r.path}\` | ${cell(r.type)} | ${r.default === 'required' ? 'required' : r.default ? `\`${cell(r.default)}\`` : ''} | \`${r.env}\` | ${cell(r.description)} |`,
    ),
    '',
    `Environment overrides: \`${ENV_PREFIX}\` + the path with \`__\` between keys, each camelCase key in UPPER_SNAKE case, list items by index ` +
      `(\`${ENV_PREFIX}CAMERAS__0__URI\`). Numbers and booleans (\`true/false/1/0/yes/no\`) are converted, lists take \`a,b,c\` or JSON, ` +
      `objects take JSON. An unknown \`${ENV_PREFIX}*\` name is an error (except \`${ENV_PREFIX}CONFIG\`). Relative paths are resolved against the config file's directory. Unknown keys are rejected.`,
  ];
  return lines.join('\n');
}
