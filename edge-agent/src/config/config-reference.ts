import {
  configReferenceMarkdown as kitReferenceMarkdown,
  referenceRows as kitReferenceRows,
  type ReferenceOptions,
  type ReferenceRow,
} from '@edgefleet/service-kit/config';
import type { TSchema } from '@sinclair/typebox';
import { AgentConfigSchema } from './agent-config-schema.js';
import { AGENT_CONFIG_ENV } from './load-config.js';

export type { ReferenceRow };

const options = (schema: TSchema): ReferenceOptions => ({
  schema,
  env: AGENT_CONFIG_ENV,
  itemExample: 'EDGE_AGENT_CAMERAS__0__URI',
});

/** Every documented setting of a schema, depth first in declaration order. */
export function referenceRows(schema: TSchema = AgentConfigSchema): ReferenceRow[] {
  return kitReferenceRows(options(schema));
}

/** The configuration reference as Markdown (docs/edge-agent-config.md is this output). */
export function configReferenceMarkdown(schema: TSchema = AgentConfigSchema): string {
  return kitReferenceMarkdown(options(schema));
}
