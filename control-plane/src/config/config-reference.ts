import type { TSchema } from '@sinclair/typebox';
import { envSegment, ENV_PREFIX } from './config-env.js';
import { ControlPlaneConfigSchema } from './control-plane-config-schema.js';

/**
 * The configuration reference as a Markdown table, generated from the schema (control-plane/README.md
 * embeds it; a test keeps the two identical).
 */

type Json = Record<string, unknown>;

function typeOf(s: TSchema): string {
  const j = s as Json;
  if (Array.isArray(j.anyOf)) return (j.anyOf as Json[]).map((a) => JSON.stringify(a.const)).join(' \\| ');
  const bounds = [
    typeof j.minimum === 'number' ? `≥ ${j.minimum}` : '',
    typeof j.maximum === 'number' ? `≤ ${j.maximum}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  if (j.type === 'string' && typeof j.pattern === 'string') return `string \`${j.pattern}\``;
  if (j.type === 'array') return `array of ${typeOf(j.items as TSchema)}`;
  return [String(j.type), bounds].filter(Boolean).join(' ');
}

function rows(schema: TSchema, path: string[], out: string[]): void {
  const props = (schema as Json).properties as Record<string, TSchema>;
  const required = new Set(((schema as Json).required as string[] | undefined) ?? []);
  for (const [key, child] of Object.entries(props)) {
    const c = child as Json;
    const p = [...path, key];
    const isObject = c.type === 'object';
    const def =
      c.default === undefined ? (required.has(key) && !isObject ? 'required' : '') : `\`${JSON.stringify(c.default)}\``;
    const env = `\`${ENV_PREFIX}${p.map(envSegment).join('__')}\``;
    const desc = String(c.description ?? '')
      .replace(/\|/g, '\\|')
      .replace(/\n/g, ' ');
    const type = (isObject ? 'object' : typeOf(child)).replace(/(?<!\\)\|/g, '\\|');
    out.push(`| \`${p.join('.')}\` | ${type} | ${isObject ? '' : def} | ${env} | ${desc} |`);
    if (isObject && c.properties) rows(child, p, out);
  }
}

export function configReference(): string {
  const out = ['| Path | Type | Default | Environment | Description |', '| --- | --- | --- | --- | --- |'];
  rows(ControlPlaneConfigSchema, [], out);
  return out.join('\n');
}
