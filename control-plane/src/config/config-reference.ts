import { configReferenceMarkdown } from '@edgefleet/service-kit/config';
import { ControlPlaneConfigSchema } from './control-plane-config-schema.js';
import { CONTROL_PLANE_CONFIG_ENV } from './load-control-plane-config.js';

/**
 * The configuration reference as Markdown, generated from the schema (control-plane/README.md embeds it;
 * a test keeps the two identical).
 */
export function configReference(): string {
  return configReferenceMarkdown({ schema: ControlPlaneConfigSchema, env: CONTROL_PLANE_CONFIG_ENV });
}
