/**
 * Public API of the edge agent package (used by cross-package tests, benchmarks and the control plane's
 * local-fleet runner). The CLI lives in bin/edge-agent.js.
 */
export { Agent } from './agent/agent.js';

export { loadConfig, parseConfig } from './config/load-config.js';
export type { AgentConfig } from './config/agent-config-schema.js';
export { configReferenceMarkdown } from './config/config-reference.js';

export { EDGE_ERRORS } from './errors.js';
